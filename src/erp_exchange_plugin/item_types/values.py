"""Small value normalisers shared by the calendar and task item types.

Each takes the field name (for :class:`~erp_exchange_plugin.plugin_types.RecordInvalid`) and
returns the canonical value both sides of a mapping produce.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from exchangelib import HTMLBody

from erp_exchange_plugin.item_types.text import clean, html_to_text
from erp_exchange_plugin.plugin_types import RecordInvalid


def categories(name: str, value: Any) -> list[str]:
    """A sorted list of distinct, trimmed category names."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise RecordInvalid(name, f"must be a list, not {type(value).__name__}")
    found = {clean(f"{name}[{i}]", v) for i, v in enumerate(value)}
    return sorted(c for c in found if c is not None)


def body_text(body: Any) -> str | None:
    """An exchangelib body (text or HTML) as plain text."""
    if body is None:
        return None
    return html_to_text(str(body)) if isinstance(body, HTMLBody) else str(body)


def choice(name: str, value: Any, choices: Mapping[str, str], default: str) -> str:
    """One of ``choices``' keys (case-insensitive; ``None`` means ``default``)."""
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise RecordInvalid(name, f"{value!r} is not one of {', '.join(choices)}")
    return value.strip().lower()


def whole_number(name: str, value: Any, *, low: int, high: int) -> int | None:
    """An integer in ``low..high`` (``None`` stays ``None``); integral floats/Decimals/strings accepted."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordInvalid(name, "must be a number, not a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordInvalid(name, f"{value!r} is not a number") from None
    if not number.is_integer():
        raise RecordInvalid(name, f"{value!r} is not a whole number")
    if not low <= number <= high:
        raise RecordInvalid(name, f"{value!r} is not between {low} and {high}")
    return int(number)


def flag(name: str, value: Any) -> bool:
    """A boolean (``None`` is ``False``)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RecordInvalid(name, f"must be true or false, not {value!r}")
    return value


def plain_datetime(value: dt.datetime) -> dt.datetime:
    """A :class:`datetime.datetime` for exchangelib's ``EWSDateTime`` (which refuses non-EWS zones)."""
    if type(value) is dt.datetime:
        return value
    return dt.datetime.fromisoformat(value.isoformat())


def date_value(name: str, value: Any, zone: dt.tzinfo | None = None) -> dt.date | None:
    """A date from a date, an ISO string, or a datetime (its date in ``zone`` when aware)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
        except ValueError:
            raise RecordInvalid(name, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if isinstance(value, dt.datetime):
        moment = plain_datetime(value)
        if moment.tzinfo is not None and zone is not None:
            moment = moment.astimezone(zone)
        return moment.date()
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    raise RecordInvalid(name, f"must be a date, not {type(value).__name__}")


def datetime_value(name: str, value: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """An aware datetime in ``zone``, whole seconds; naive values are wall-clock times in ``zone``.

    The result goes through UTC and back, so a wall-clock time in a daylight-saving gap becomes
    the instant it denotes and normalising twice changes nothing.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise RecordInvalid(name, f"{value!r} is not a date-time (ISO 8601)") from None
    if not isinstance(value, dt.datetime):
        raise RecordInvalid(name, f"must be a date-time, not {type(value).__name__}")
    moment = plain_datetime(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    utc = moment.astimezone(dt.UTC).replace(microsecond=0)
    return utc.astimezone(zone)
