"""Per-item-type settings: enabled, direction, conflict policy and the sync window.

In the ``exchange`` section they sit under ``item_types``, one object per item type name::

    "item_types": {
        "calendar": {"direction": "erp_to_exchange", "window_past_days": 30, "window_future_days": 365},
        "tasks": {"enabled": false}
    }

Every option falls back user -> tenant -> default on its own; an item type that is not named
anywhere syncs with the defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from marshmallow import ValidationError

from erp_exchange_plugin.sync.policy import DEFAULT_POLICY, ConflictPolicy, Direction

NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,62}")
OPTIONS: Final = (
    "enabled",
    "direction",
    "conflict_policy",
    "window_past_days",
    "window_future_days",
    "send_invitations",
)


@dataclass(frozen=True, slots=True)
class ItemTypeSettings:
    """The effective options of one item type.

    :param window_past_days: Days back from now an item may start and still be copied (``None``:
        the item type's own default, if it has one).
    :param window_future_days: Days ahead likewise.
    """

    enabled: bool = True
    direction: Direction = Direction.BOTH
    conflict_policy: ConflictPolicy = DEFAULT_POLICY
    window_past_days: int | None = None
    window_future_days: int | None = None
    send_invitations: bool = False
    """Calendar: let Exchange send meeting invitations and cancellations for what the sync writes
    (never by default: a first sync must not re-invite everybody)."""


def _option(name: str, key: str, value: Any) -> Any:
    where = f"{name}.{key}"
    if key in ("enabled", "send_invitations"):
        if not isinstance(value, bool):
            raise ValidationError(f"{where} must be true or false")
        return value
    if key in ("direction", "conflict_policy"):
        enum: type[Direction] | type[ConflictPolicy] = Direction if key == "direction" else ConflictPolicy
        if not isinstance(value, str) or value not in {m.value for m in enum}:
            raise ValidationError(f"{where} must be one of {', '.join(m.value for m in enum)}")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
        raise ValidationError(f"{where} must be a whole number of days from 0 to 3650")
    return value


def load_level(value: Any) -> dict[str, dict[str, Any]]:
    """Check one level's ``item_types`` object; ``null`` options are dropped (inherit)."""
    if not isinstance(value, Mapping):
        raise ValidationError("must be an object of item type names")
    loaded: dict[str, dict[str, Any]] = {}
    for name, options in value.items():
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValidationError(f"{name!r} is not an item type name")
        if not isinstance(options, Mapping):
            raise ValidationError(f"{name} must be an object of options")
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ValidationError(f"{name}.{unknown[0]} is not an option (options: {', '.join(OPTIONS)})")
        loaded[name] = {k: _option(name, k, v) for k, v in options.items() if v is not None}
    return loaded


def merge(
    user: Mapping[str, Mapping[str, Any]] | None, tenant: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, dict[str, Any]]:
    """Each option from the user, else the tenant (both already checked)."""
    names = sorted(set(user or {}) | set(tenant or {}))
    return {n: {**dict((tenant or {}).get(n, {})), **dict((user or {}).get(n, {}))} for n in names}


def to_settings(merged: Mapping[str, Mapping[str, Any]]) -> tuple[tuple[str, ItemTypeSettings], ...]:
    """The effective options per named item type."""
    result = []
    for name, options in sorted(merged.items()):
        result.append(
            (
                name,
                ItemTypeSettings(
                    enabled=bool(options.get("enabled", True)),
                    direction=Direction(options.get("direction", Direction.BOTH.value)),
                    conflict_policy=ConflictPolicy(options.get("conflict_policy", DEFAULT_POLICY.value)),
                    window_past_days=options.get("window_past_days"),
                    window_future_days=options.get("window_future_days"),
                    send_invitations=bool(options.get("send_invitations", False)),
                ),
            )
        )
    return tuple(result)
