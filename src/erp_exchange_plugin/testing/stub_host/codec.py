"""How the stub host turns values into JSON and back.

Two jobs:

- :func:`encode_fields` / :func:`decode_fields`: record fields are stored as *tagged* JSON, so
  ``datetime``, ``date``, ``Decimal`` and ``bytes`` values come back from the record store as
  the same types (a real ERP has typed columns; a sync engine comparing fingerprints must not
  see a ``datetime`` turn into a string). Tuples come back as lists.
- :func:`summarize`: a JSON-safe, lossy summary of any hook argument or result for the hook-call
  log; values of secret-looking keys are masked there.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any

_TAG = "$stubhost"


def _tag(kind: str, value: str) -> dict[str, str]:
    return {_TAG: kind, "value": value}


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return _tag("datetime", value.isoformat())
    if isinstance(value, date):
        return _tag("date", value.isoformat())
    if isinstance(value, Decimal):
        return _tag("decimal", str(value))
    if isinstance(value, bytes):
        return _tag("bytes", base64.b64encode(value).decode("ascii"))
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"record field {where or '(top)'}: keys must be strings, not {key!r}")
            path = f"{where}.{key}" if where else key
            if key == _TAG:
                raise TypeError(f"record field {path}: the key {_TAG!r} is reserved by the stub host")
            out[key] = _encode(item, path)
        return out
    if isinstance(value, list | tuple):
        return [_encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise TypeError(
        f"record field {where}: the stub host stores None, bool, int, float, str, datetime, date, "
        f"Decimal, bytes, lists and mappings of them, not {type(value).__name__}"
    )


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        kind = value.get(_TAG)
        if isinstance(kind, str):
            raw = value["value"]
            if kind == "datetime":
                return datetime.fromisoformat(raw)
            if kind == "date":
                return date.fromisoformat(raw)
            if kind == "decimal":
                return Decimal(raw)
            if kind == "bytes":
                return base64.b64decode(raw)
            raise ValueError(f"unknown stub host tag {kind!r}")
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def encode_fields(fields: Mapping[str, Any]) -> str:
    """Return ``fields`` as tagged JSON text.

    :raises TypeError: a value (named by its path, for example ``phones[1].number``) cannot be
        stored.
    """
    if not isinstance(fields, Mapping):
        raise TypeError(f"record fields must be a mapping, not {type(fields).__name__}")
    return json.dumps(_encode(fields, ""), sort_keys=True)


def decode_fields(text: str) -> dict[str, Any]:
    """Return the fields stored by :func:`encode_fields`, with their original types."""
    value = _decode(json.loads(text))
    assert isinstance(value, dict)
    return value


# -- hook-call summaries ------------------------------------------------------------------------

_SECRET_KEY = re.compile(r"secret|password|passwd|token|credential|authorization|api_?key", re.IGNORECASE)
MASK = "***"
_MAX_TEXT = 500
_MAX_ITEMS = 100
_MAX_DEPTH = 8


def summarize(value: Any, depth: int = 0) -> Any:
    """Return a JSON-safe summary of ``value`` for the hook-call log.

    Dataclasses become mappings with a ``"__type__"`` key, enums their value, datetimes ISO
    strings, bytes ``"<N bytes>"``; long texts and collections are cut. Values under keys that
    look secret (``client_secret``, ``password``, ``token``, ...) are replaced by ``"***"``, so
    a canary-secret test does not find the user's own input in the host's log.
    """
    if depth > _MAX_DEPTH:
        return "..."
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return summarize(value.value, depth + 1)
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "..."
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, Decimal | PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"__type__": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _summarize_item(f.name, getattr(value, f.name), depth)
        return out
    if isinstance(value, Mapping):
        items = list(value.items())
        result = {str(k): _summarize_item(str(k), v, depth) for k, v in items[:_MAX_ITEMS]}
        if len(items) > _MAX_ITEMS:
            result["..."] = f"{len(items) - _MAX_ITEMS} more"
        return result
    if isinstance(value, list | tuple | set | frozenset):
        seq = sorted(value, key=repr) if isinstance(value, set | frozenset) else list(value)
        summary = [summarize(v, depth + 1) for v in seq[:_MAX_ITEMS]]
        if len(seq) > _MAX_ITEMS:
            summary.append(f"... {len(seq) - _MAX_ITEMS} more")
        return summary
    text = repr(value)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "..."


def _summarize_item(key: str, value: Any, depth: int) -> Any:
    if _SECRET_KEY.search(key) and value not in (None, ""):
        return MASK
    return summarize(value, depth + 1)


def to_json(value: Any) -> str:
    """Return ``summarize(value)`` as JSON text."""
    return json.dumps(summarize(value), sort_keys=True)


# -- time ---------------------------------------------------------------------------------------


def utc_now() -> datetime:
    """Return the current time, timezone-aware, in UTC (the stub host's default clock)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; a naive datetime is an error, never silently local time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)
