"""marshmallow schemas of one settings level (user or tenant) into a frozen :class:`LevelValues`.

A level holds only what was set there: a missing key or ``null`` means "inherit". Values
are checked one by one here; rules across fields and levels (the OAuth triple, locks, URL
policy, allowed domains) are :mod:`erp_exchange_plugin.settings.resolve`'s job.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, post_load, pre_load
from marshmallow import fields as mf

from erp_exchange_plugin.secret import Secret
from erp_exchange_plugin.settings import item_types
from erp_exchange_plugin.settings import validators as v
from erp_exchange_plugin.settings.catalogue import (
    BY_NAME,
    SERVER_VERSIONS,
    USER_SETTABLE,
    AuthMode,
)


@dataclass(frozen=True, slots=True)
class LevelValues:
    """The values set at one level; ``None`` means not set there."""

    enabled: bool | None = None
    auth_mode: AuthMode | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    authority_host: str | None = None
    ews_url: str | None = None
    mailbox: str | None = None
    username: str | None = None
    password: Secret | None = None
    server_version: str | None = None
    ca_file: Path | None = None
    sync_interval_minutes: int | None = None
    mail_interval_minutes: int | None = None
    item_types: Mapping[str, Mapping[str, Any]] | None = None
    delete_guard_max_share: float | None = None
    delete_guard_min_items: int | None = None
    disable_after_failures: int | None = None
    allow_http_loopback: bool | None = None
    allowed_mailbox_domains: tuple[str, ...] | None = None
    locked_fields: frozenset[str] | None = None

    def is_set(self, name: str) -> bool:
        """True when the level sets ``name``."""
        return getattr(self, name) is not None

    def set_names(self) -> frozenset[str]:
        """The names of every field the level sets."""
        return frozenset(f.name for f in fields(self) if getattr(self, f.name) is not None)


class Text(mf.Field[str]):
    """A non-empty, trimmed, bounded string, with optional further checks."""

    def __init__(self, max_length: int = 256, checks: tuple[Callable[[str], None], ...] = ()) -> None:
        super().__init__(allow_none=True)
        self.max_length = max_length
        self.checks = checks

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"must be a string, not {_json_type(value)}")
        v.text(value, max_length=self.max_length)
        for check in self.checks:
            check(value)
        return value


class Choice(Text):
    """One of a fixed set of strings."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        super().__init__(64)
        self.choices = choices

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if text not in self.choices:
            raise ValidationError(f"must be one of {', '.join(self.choices)}")
        return text


class SecretText(mf.Field[Secret]):
    """A secret string; never echoed in an error."""

    def __init__(self) -> None:
        super().__init__(allow_none=True)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any) -> Secret:
        if not isinstance(value, str):
            raise ValidationError(f"must be a string, not {_json_type(value)}")
        v.text(value, max_length=1024)
        return Secret(value)


class StrictBool(mf.Field[bool]):
    """``true`` or ``false`` only (no ``"yes"``, no ``1``)."""

    def __init__(self) -> None:
        super().__init__(allow_none=True)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(f"must be true or false, not {_json_type(value)}")
        return value


class Minutes(mf.Field[int]):
    """A whole number of minutes from 1 to 1440."""

    def __init__(self) -> None:
        super().__init__(allow_none=True)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"must be a whole number of minutes, not {_json_type(value)}")
        if not 1 <= value <= 1440:
            raise ValidationError("must be between 1 and 1440 minutes")
        return value


class ItemTypes(mf.Field[dict[str, dict[str, Any]]]):
    """Per-item-type options (see :mod:`erp_exchange_plugin.settings.item_types`)."""

    def __init__(self) -> None:
        super().__init__(allow_none=True)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any
    ) -> dict[str, dict[str, Any]]:
        return item_types.load_level(value)


class Share(mf.Field[float]):
    """A number from 0 to 1."""

    def __init__(self) -> None:
        super().__init__(allow_none=True)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValidationError("must be a number from 0 to 1")
        return float(value)


class Count(mf.Field[int]):
    """A whole number from 0 to 1,000,000."""

    def __init__(self) -> None:
        super().__init__(allow_none=True)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
            raise ValidationError("must be a whole number from 0 to 1000000")
        return value


class CaFile(Text):
    """A readable file."""

    def __init__(self) -> None:
        super().__init__(4096)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any) -> Any:
        path = Path(super()._deserialize(value, attr, data, **kw))
        if not path.is_file() or not os.access(path, os.R_OK):
            raise ValidationError(f"{str(path)!r} is not a readable file")
        return path


class StringList(mf.Field[tuple[str, ...]]):
    """A list of distinct strings, each checked."""

    def __init__(self, check: Callable[[str], None], max_items: int = 100) -> None:
        super().__init__(allow_none=True)
        self.check = check
        self.max_items = max_items

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any
    ) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise ValidationError(f"must be a list, not {_json_type(value)}")
        if len(value) > self.max_items:
            raise ValidationError(f"has more than {self.max_items} entries")
        items: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ValidationError(f"entry {i} must be a string, not {_json_type(item)}")
            try:
                v.text(item, max_length=253)
                self.check(item)
            except ValidationError as exc:
                raise ValidationError(f"entry {i} {_first(exc)}") from exc
            items.append(item)
        return tuple(dict.fromkeys(items))


def _user_settable_name(name: str) -> None:
    if name not in BY_NAME:
        raise ValidationError(f"{name!r} is not a setting")
    if name not in USER_SETTABLE:
        raise ValidationError(f"{name!r} is set by administrators only and needs no lock")


def _json_type(value: object) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _first(exc: ValidationError) -> str:
    messages = exc.messages
    return str(messages[0] if isinstance(messages, list) and messages else messages)


class _LevelSchema(Schema):
    level: ClassVar[str]

    class Meta:
        unknown = RAISE

    enabled = StrictBool()
    auth_mode = Choice(tuple(m.value for m in AuthMode))
    tenant_id = Text(253, (v.tenant,))
    client_id = Text(36, (v.guid,))
    client_secret = SecretText()
    authority_host = Text(2048, (v.url,))
    ews_url = Text(2048, (v.url,))
    mailbox = Text(320, (v.email,))
    username = Text(320)
    password = SecretText()
    server_version = Choice(SERVER_VERSIONS)
    ca_file = CaFile()
    sync_interval_minutes = Minutes()
    mail_interval_minutes = Minutes()
    item_types = ItemTypes()

    @pre_load
    def _must_be_object(self, data: Any, **kw: Any) -> Any:
        if not isinstance(data, Mapping):
            raise ValidationError(f"the settings section must be an object, not {_json_type(data)}")
        return data

    @post_load
    def _to_values(self, data: dict[str, Any], **kw: Any) -> LevelValues:
        if data.get("auth_mode") is not None:
            data["auth_mode"] = AuthMode(data["auth_mode"])
        if data.get("locked_fields") is not None:
            data["locked_fields"] = frozenset(data["locked_fields"])
        return LevelValues(**data)


class UserSectionSchema(_LevelSchema):
    """What a user may put in their own ``exchange`` section."""

    level = "user"


class TenantSectionSchema(_LevelSchema):
    """What an administrator may put in the tenant's ``exchange`` section."""

    level = "tenant"

    allow_http_loopback = StrictBool()
    delete_guard_max_share = Share()
    delete_guard_min_items = Count()
    disable_after_failures = Count()
    allowed_mailbox_domains = StringList(v.domain)
    locked_fields = StringList(_user_settable_name, max_items=len(BY_NAME))
