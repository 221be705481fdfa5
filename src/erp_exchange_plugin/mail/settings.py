"""The settings of one IMAP or POP3 mailbox (``Mailbox.settings``), validated into :class:`MailboxSettings`.

A marshmallow schema checks every field on its own and a few rules across fields; the result is
a frozen dataclass, the password a :class:`~erp_exchange_plugin.secret.Secret`. Invalid input
raises :class:`MailSettingsError`, which carries one message per field (``"limits.max_message_bytes"``)
and never echoes a password. docs/mail.md lists every field with its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from marshmallow import RAISE, Schema, ValidationError, pre_load, validates_schema
from marshmallow import fields as mf

from erp_exchange_plugin.errors import ConfigurationError
from erp_exchange_plugin.secret import Secret
from erp_exchange_plugin.settings import validators as v
from erp_exchange_plugin.settings.schema import CaFile, Choice, SecretText, StrictBool, Text

Security = Literal["tls", "starttls", "none"]
AuthMethod = Literal["password", "xoauth2"]

DEFAULT_PORTS: Final[Mapping[tuple[str, str], int]] = {
    ("imap", "tls"): 993,
    ("imap", "starttls"): 143,
    ("imap", "none"): 143,
    ("pop3", "tls"): 995,
    ("pop3", "starttls"): 110,
    ("pop3", "none"): 110,
}
DEFAULT_MAX_MESSAGE_BYTES: Final = 50 * 1024 * 1024
"""Messages larger than this (50 MiB) are skipped unless ``limits.max_message_bytes`` says otherwise."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one run may fetch.

    :param max_messages_per_run: Stop after this many messages; the rest waits for the next run.
    :param max_bytes_per_run: Stop before the message that would pass this many bytes (a run
        always takes its first message, so one large message cannot block the mailbox).
    :param max_message_bytes: Skip (for good, with a report line and an alert) any larger message.
    """

    max_messages_per_run: int | None = None
    max_bytes_per_run: int | None = None
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES


@dataclass(frozen=True, slots=True)
class Actions:
    """What to do on the server with a message once the host accepted it (nothing by default).

    :param mark_read: IMAP: set ``\\Seen``.
    :param move_to: IMAP: move it to this folder.
    :param delete: IMAP and POP3: delete it on the server.
    """

    mark_read: bool = False
    move_to: str | None = None
    delete: bool = False

    @property
    def any(self) -> bool:
        """True when some action is configured."""
        return self.mark_read or self.delete or self.move_to is not None


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    """The validated settings of one IMAP or POP3 mailbox.

    :param protocol: ``"imap"`` or ``"pop3"``.
    :param host: The server's host name or address.
    :param port: The TCP port (the protocol's default for ``security`` when not set).
    :param security: ``"tls"`` (IMAPS/POP3S), ``"starttls"`` (STARTTLS/STLS) or ``"none"`` (loopback only).
    :param username: The login name.
    :param auth: ``"password"`` or ``"xoauth2"`` (a bearer token from the plugin's token source).
    :param password: The password when ``auth`` is ``"password"``.
    :param folders: IMAP folders to fetch, in order (``("INBOX",)`` by default; POP3 has none).
    :param ca_file: A PEM file of CAs to trust instead of the system's.
    :param timeout_seconds: Socket timeout of every server operation.
    :param actions: Server-side actions after acceptance.
    :param limits: Run and message limits.
    """

    protocol: str
    host: str
    port: int
    security: Security
    username: str
    auth: AuthMethod = "password"
    password: Secret | None = None
    folders: tuple[str, ...] = ("INBOX",)
    ca_file: Path | None = None
    timeout_seconds: float = 60.0
    actions: Actions = Actions()
    limits: Limits = Limits()


class MailSettingsError(ConfigurationError):
    """The mailbox settings are not usable; :attr:`field_errors` maps each bad field to its messages."""

    code = "mail.settings_invalid"

    def __init__(self, mailbox_id: str, field_errors: Mapping[str, list[str]]) -> None:
        self.field_errors = dict(field_errors)
        text = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in sorted(self.field_errors.items()))
        super().__init__(
            f"the settings of mailbox {mailbox_id!r} are invalid: {text}",
            hint="correct the mailbox settings",
        )


class _Count(mf.Field[int]):
    """A whole number from ``minimum`` up."""

    def __init__(self, minimum: int = 1, maximum: int = 2**62) -> None:
        super().__init__(allow_none=True)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("must be a whole number")
        if not self.minimum <= value <= self.maximum:
            raise ValidationError(f"must be between {self.minimum} and {self.maximum}")
        return value


class _Seconds(mf.Field[float]):
    def __init__(self) -> None:
        super().__init__(allow_none=True)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a number of seconds")
        if not 1 <= value <= 3600:
            raise ValidationError("must be between 1 and 3600 seconds")
        return float(value)


class _Folders(mf.Field[tuple[str, ...]]):
    def __init__(self) -> None:
        super().__init__(allow_none=True)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kw: Any
    ) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not value:
            raise ValidationError("must be a folder name or a non-empty list of folder names")
        if len(value) > 50:
            raise ValidationError("has more than 50 folders")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ValidationError(f"entry {i} must be a string")
            try:
                v.text(item, max_length=512)
            except ValidationError as exc:
                raise ValidationError(f"entry {i} {exc.messages[0]}") from exc
        return tuple(dict.fromkeys(value))


class _StrictSchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _must_be_object(self, data: Any, **kw: Any) -> Any:
        if not isinstance(data, Mapping):
            raise ValidationError("must be an object")
        return data


class _LimitsSchema(_StrictSchema):
    max_messages_per_run = _Count()
    max_bytes_per_run = _Count(1024)
    max_message_bytes = _Count(1024)


class _ActionsSchema(_StrictSchema):
    mark_read = StrictBool()
    move_to = Text(512)
    delete = StrictBool()


class _MailboxSchema(_StrictSchema):
    host = Text(253)
    port = _Count(1, 65535)
    security = Choice(("tls", "starttls", "none"))
    username = Text(320)
    auth = Choice(("password", "xoauth2"))
    password = SecretText()
    folder = _Folders()
    folders = _Folders()
    ca_file = CaFile()
    timeout_seconds = _Seconds()
    actions = mf.Nested(_ActionsSchema, allow_none=True)
    limits = mf.Nested(_LimitsSchema, allow_none=True)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _across_fields(self, data: dict[str, Any], original: Mapping[str, Any], **kw: Any) -> None:
        errors: dict[str, list[str]] = {}
        for name in ("host", "username"):
            if original.get(name) is None:
                errors.setdefault(name, []).append("is required")
        auth = data.get("auth") or "password"
        if auth == "password" and original.get("password") is None:
            errors.setdefault("password", []).append('is required when auth is "password"')
        if auth == "xoauth2" and data.get("password") is not None:
            errors.setdefault("password", []).append('must not be set when auth is "xoauth2"')
        if data.get("security") == "none" and data.get("host") and not v.is_loopback_host(data["host"]):
            errors.setdefault("security", []).append(
                '"none" (no TLS) is allowed for a loopback host only: use "tls" or "starttls"'
            )
        if data.get("folder") is not None and data.get("folders") is not None:
            errors.setdefault("folders", []).append('set "folder" or "folders", not both')
        actions = data.get("actions") or {}
        if actions.get("delete") and actions.get("move_to") is not None:
            errors.setdefault("actions", []).append('"delete" and "move_to" exclude each other')
        if errors:
            raise ValidationError(errors)


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            for field_name, msgs in _flatten(value, name).items():
                out.setdefault(field_name, []).extend(msgs)
    elif isinstance(messages, list | tuple):
        for msg in messages:
            if isinstance(msg, Mapping):
                for field_name, msgs in _flatten(msg, prefix).items():
                    out.setdefault(field_name, []).extend(msgs)
            else:
                out.setdefault(prefix or "(settings)", []).append(_unknown_field_text(str(msg)))
    else:
        out.setdefault(prefix or "(settings)", []).append(_unknown_field_text(str(messages)))
    return out


def _unknown_field_text(message: str) -> str:
    return "is not a setting" if message == "Unknown field." else message


def load_settings(protocol: str, mailbox_id: str, raw: Mapping[str, Any]) -> MailboxSettings:
    """Validate ``raw`` (``Mailbox.settings``) for ``protocol`` (``"imap"`` or ``"pop3"``).

    :raises MailSettingsError: with one entry per bad field; nothing else is raised for bad input.
    """
    if not isinstance(raw, Mapping):
        raise MailSettingsError(mailbox_id, {"(settings)": ["must be an object"]})
    try:
        data: dict[str, Any] = _MailboxSchema().load(raw)
    except ValidationError as exc:
        raise MailSettingsError(mailbox_id, _flatten(exc.messages)) from None
    errors: dict[str, list[str]] = {}
    folders = data.get("folders") or data.get("folder") or ("INBOX",)
    actions = Actions(
        mark_read=bool((data.get("actions") or {}).get("mark_read")),
        move_to=(data.get("actions") or {}).get("move_to"),
        delete=bool((data.get("actions") or {}).get("delete")),
    )
    if protocol == "pop3":
        if data.get("folder") is not None or data.get("folders") is not None:
            errors["folders"] = ["POP3 has no folders"]
        if actions.mark_read or actions.move_to is not None:
            errors["actions"] = ['POP3 can only "delete" on the server']
        folders = ()
    if errors:
        raise MailSettingsError(mailbox_id, errors)
    limits_raw = data.get("limits") or {}
    security: Security = data.get("security") or "tls"
    return MailboxSettings(
        protocol=protocol,
        host=data["host"],
        port=data.get("port") or DEFAULT_PORTS[(protocol, security)],
        security=security,
        username=data["username"],
        auth=data.get("auth") or "password",
        password=data.get("password"),
        folders=tuple(folders),
        ca_file=data.get("ca_file"),
        timeout_seconds=data.get("timeout_seconds") or 60.0,
        actions=actions,
        limits=Limits(
            max_messages_per_run=limits_raw.get("max_messages_per_run"),
            max_bytes_per_run=limits_raw.get("max_bytes_per_run"),
            max_message_bytes=limits_raw.get("max_message_bytes") or DEFAULT_MAX_MESSAGE_BYTES,
        ),
    )
