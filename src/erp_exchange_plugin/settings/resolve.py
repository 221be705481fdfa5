"""User -> tenant -> default resolution, with the origin of every value, locks and cross-field rules.

:func:`resolve` never raises on bad input: every problem becomes a
:class:`~erp_hookspecs.FieldError` naming the field and the level that holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from marshmallow import ValidationError

from erp_exchange_plugin.secret import MASK, Secret
from erp_exchange_plugin.settings import item_types
from erp_exchange_plugin.settings.catalogue import (
    BY_NAME,
    OAUTH_TRIPLE,
    SECTION,
    SETTINGS,
    USER_SETTABLE,
    AuthMode,
)
from erp_exchange_plugin.settings.model import ExchangeSettings
from erp_exchange_plugin.settings.schema import LevelValues, TenantSectionSchema, UserSectionSchema
from erp_exchange_plugin.settings.validators import is_loopback_host
from erp_hookspecs import FieldError, Origin, SettingsResult

USER = "user"
TENANT = "tenant"


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of :func:`resolve`.

    :param settings: The usable settings, or ``None`` when there is any error.
    :param effective: Every field's effective value for display (secrets masked).
    :param origins: Where each effective value came from.
    :param editable: Fields the user may change without admin rights.
    :param errors: Field-level errors.
    :param warnings: Values that were ignored and why.
    """

    user_id: str
    settings: ExchangeSettings | None
    effective: Mapping[str, Any]
    origins: Mapping[str, Origin]
    editable: frozenset[str]
    errors: tuple[FieldError, ...]
    warnings: tuple[str, ...]

    def to_result(self) -> SettingsResult:
        """The answer to the host's ``on_user_settings_load``."""
        return SettingsResult(
            section=SECTION,
            user_id=self.user_id,
            effective=dict(self.effective),
            origins=dict(self.origins),
            editable=self.editable,
            errors=self.errors,
            warnings=self.warnings,
        )


class _Errors:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], None] = {}

    def add(self, field: str, level: str, message: str) -> None:
        self.items[(field, level, message)] = None

    def add_marshmallow(self, messages: Any, level: str) -> None:
        if isinstance(messages, Mapping):
            for field, msgs in messages.items():
                name = "(section)" if field == "_schema" else str(field)
                for msg in msgs if isinstance(msgs, list) else [msgs]:
                    self.add(name, level, _friendly(str(msg)))
        else:
            for msg in messages if isinstance(messages, list) else [messages]:
                self.add("(section)", level, str(msg))

    def result(self) -> tuple[FieldError, ...]:
        return tuple(FieldError(f, lvl, m) for f, lvl, m in self.items)


def _friendly(message: str) -> str:
    return "is not a setting" if message == "Unknown field." else message


def _load(schema: UserSectionSchema | TenantSectionSchema, raw: Any, errors: _Errors) -> LevelValues:
    try:
        loaded: LevelValues = schema.load(raw)
        return loaded
    except ValidationError as exc:
        errors.add_marshmallow(exc.messages, schema.level)
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        try:
            partial: LevelValues = schema.load(valid)
            return partial
        except ValidationError:  # pragma: no cover - valid_data is valid by definition
            return LevelValues()


def _load_user(raw: Any, errors: _Errors) -> LevelValues:
    if isinstance(raw, Mapping):
        admin_only = {k for k in raw if k in BY_NAME and k not in USER_SETTABLE}
        for key in sorted(admin_only):
            errors.add(key, USER, "is set by administrators only (tenant level)")
        raw = {k: val for k, val in raw.items() if k not in admin_only}
    return _load(UserSectionSchema(), raw, errors)


def _triple_state(level: LevelValues, name: str, errors: _Errors) -> bool:
    present = [f for f in OAUTH_TRIPLE if level.is_set(f)]
    if present and len(present) < len(OAUTH_TRIPLE):
        for missing in (f for f in OAUTH_TRIPLE if not level.is_set(f)):
            errors.add(
                missing,
                name,
                f"is missing: tenant_id, client_id and client_secret are set together at the {name} level, "
                f"or none of them ({', '.join(present)} set)",
            )
        return False
    return bool(present)


def resolve(
    user_id: str,
    user_raw: Any,
    tenant_raw: Any,
    *,
    host_email: str | None = None,
    proposed: bool = False,
) -> Resolution:
    """Resolve a user's effective settings.

    :param user_id: The user.
    :param user_raw: The user's section (stored, or about to be saved when ``proposed``).
    :param tenant_raw: The tenant's section.
    :param host_email: The user's e-mail address from the host's directory (the default mailbox).
    :param proposed: ``user_raw`` is about to be saved: a user value of a locked field is an
        error (when loading stored values it is ignored with a warning instead).
    """
    errors = _Errors()
    warnings: list[str] = []
    tenant = _load(TenantSectionSchema(), tenant_raw if tenant_raw is not None else {}, errors)
    user = _load_user(user_raw if user_raw is not None else {}, errors)

    locks = set(tenant.locked_fields or ())
    if locks & set(OAUTH_TRIPLE):
        locks |= set(OAUTH_TRIPLE)
    for name in sorted(locks & user.set_names()):
        if proposed:
            errors.add(name, USER, "is locked by the administrator")
        else:
            warnings.append(f"{name}: the user's value is ignored because the administrator locked it")

    user_triple = _triple_state(user, USER, errors) and not (locks & set(OAUTH_TRIPLE))
    _triple_state(tenant, TENANT, errors)

    values: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    for spec in SETTINGS:
        name = spec.name
        if name == "item_types":
            user_types = None if name in locks else user.item_types
            values[name] = item_types.merge(user_types, tenant.item_types)
            origins[name] = (
                Origin.USER if user_types else Origin.TENANT if tenant.item_types else Origin.DEFAULT
            )
        elif name in OAUTH_TRIPLE:
            source = user if user_triple else tenant
            origin = Origin.USER if user_triple else Origin.TENANT
            if source.is_set(name):
                values[name], origins[name] = getattr(source, name), origin
            else:
                values[name], origins[name] = None, Origin.DEFAULT
        elif name not in locks and not spec.tenant_only and user.is_set(name):
            values[name], origins[name] = getattr(user, name), Origin.USER
        elif tenant.is_set(name):
            values[name], origins[name] = getattr(tenant, name), Origin.TENANT
        elif name == "mailbox" and host_email:
            values[name], origins[name] = host_email, Origin.HOST
        else:
            values[name], origins[name] = spec.default, Origin.DEFAULT

    _cross_field_rules(values, origins, errors)
    error_tuple = errors.result()
    settings = None if error_tuple else _to_settings(user_id, values)
    return Resolution(
        user_id=user_id,
        settings=settings,
        effective={name: _display(val) for name, val in values.items()},
        origins=origins,
        editable=frozenset(USER_SETTABLE - locks),
        errors=error_tuple,
        warnings=tuple(warnings),
    )


def _level_of(origin: Origin) -> str:
    return USER if origin is Origin.USER else TENANT


def _cross_field_rules(values: dict[str, Any], origins: dict[str, Origin], errors: _Errors) -> None:
    allow_http = bool(values["allow_http_loopback"])
    for name in ("ews_url", "authority_host"):
        parts = urlsplit(str(values[name]))
        if parts.scheme == "http" and not (allow_http and is_loopback_host(parts.hostname or "")):
            errors.add(
                name,
                _level_of(origins[name]),
                "must be an https URL (plain http only for loopback addresses, "
                "with allow_http_loopback set by an administrator)",
            )

    mailbox = values["mailbox"]
    if mailbox is None:
        errors.add("mailbox", USER, "is required: set it, or give the user an e-mail address in the ERP")
    elif values["allowed_mailbox_domains"]:
        domain = str(mailbox).rpartition("@")[2].lower()
        allowed = {d.lower() for d in values["allowed_mailbox_domains"]}
        if domain not in allowed:
            errors.add(
                "mailbox",
                _level_of(origins["mailbox"]),
                f"is in domain {domain!r}, which the administrator does not allow "
                f"(allowed: {', '.join(sorted(allowed))})",
            )

    mode = AuthMode(values["auth_mode"])
    if mode is AuthMode.OAUTH_APP:
        for name in OAUTH_TRIPLE:
            if values[name] is None and not any(e[0] == name for e in errors.items):
                errors.add(
                    name, TENANT, "is required for auth_mode oauth_app (set at the tenant or user level)"
                )
    else:
        for name in ("username", "password"):
            if values[name] is None:
                errors.add(name, USER, f"is required for auth_mode {mode.value}")
        if origins["ews_url"] is Origin.DEFAULT:
            errors.add("ews_url", USER, f"auth_mode {mode.value} needs the on-premises server's EWS URL")


def _to_settings(user_id: str, values: Mapping[str, Any]) -> ExchangeSettings:
    return ExchangeSettings(
        user_id=user_id,
        enabled=bool(values["enabled"]),
        auth_mode=AuthMode(values["auth_mode"]),
        mailbox=str(values["mailbox"]),
        ews_url=str(values["ews_url"]),
        authority_host=str(values["authority_host"]),
        tenant_id=values["tenant_id"],
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        username=values["username"],
        password=values["password"],
        server_version=values["server_version"],
        ca_file=values["ca_file"],
        sync_interval=timedelta(minutes=int(values["sync_interval_minutes"])),
        mail_interval=timedelta(minutes=int(values["mail_interval_minutes"])),
        allow_http_loopback=bool(values["allow_http_loopback"]),
        item_types=item_types.to_settings(values["item_types"]),
        delete_guard_max_share=float(values["delete_guard_max_share"]),
        delete_guard_min_items=int(values["delete_guard_min_items"]),
        disable_after_failures=int(values["disable_after_failures"]),
    )


def _display(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, AuthMode):
        return value.value
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value
