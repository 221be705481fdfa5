"""Plain data passed across the host contract, in both directions.

Every type here is a frozen dataclass of builtin values, so a host written against
``erp_hookspecs`` never needs to import a plugin's code to read what a hook returned.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


class Origin(enum.StrEnum):
    """Where an effective setting value came from."""

    USER = "user"
    """The user's own settings."""
    TENANT = "tenant"
    """The tenant-wide settings an administrator set for all users."""
    HOST = "host"
    """The host's user directory (for example the user's e-mail address)."""
    DEFAULT = "default"
    """The plugin's built-in default."""


@dataclass(frozen=True, slots=True)
class User:
    """A user of the ERP as the host's user directory knows them.

    :param user_id: The host's stable identifier of the user.
    :param display_name: A name to show in reports and alerts.
    :param email: The user's primary e-mail address, if the host knows it.
    """

    user_id: str
    display_name: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid settings field.

    :param field: The name of the field, as it appears in the settings section.
    :param level: ``"user"`` or ``"tenant"``: which level holds the bad value.
    :param message: A sentence that names what is wrong; never contains a secret.
    """

    field: str
    level: str
    message: str


@dataclass(frozen=True, slots=True)
class SettingsResult:
    """What a plugin answers to :func:`~erp_hookspecs.specs.on_user_settings_load`.

    :param section: The settings section the plugin owns (for example ``"exchange"``).
    :param user_id: The user the settings were resolved for.
    :param effective: Effective value of every field, secrets masked, ready to display.
    :param origins: For every field in ``effective``, where the value came from.
    :param editable: The fields this user may change without admin rights.
    :param errors: Field-level errors; when not empty the settings are unusable and a host
        must not store proposed values.
    :param warnings: Sentences about values that were ignored (for example a user value of a
        field the administrator has since locked).
    """

    section: str
    user_id: str
    effective: Mapping[str, Any] = field(default_factory=dict)
    origins: Mapping[str, Origin] = field(default_factory=dict)
    editable: frozenset[str] = frozenset()
    errors: tuple[FieldError, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when there is no field-level error."""
        return not self.errors


@dataclass(frozen=True, slots=True)
class Record:
    """One ERP record as a :class:`~erp_hookspecs.services.RecordStore` holds it.

    :param record_id: The host's stable identifier of the record.
    :param version: An opaque version that changes on every write; used for optimistic locking.
    :param fields: The record's fields (entity specific; see the item type's record schema).
    :param modified_at: When the record was last written (timezone-aware), if the host knows.
    """

    record_id: str
    version: str
    fields: Mapping[str, Any]
    modified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecordChange:
    """A change reported by :meth:`~erp_hookspecs.services.RecordStore.changes_since`.

    :param record_id: The record that changed.
    :param deleted: True when the record was deleted; then ``record`` is ``None``.
    :param record: The record as it is now, for a creation or an update.
    """

    record_id: str
    deleted: bool
    record: Record | None = None


@dataclass(frozen=True, slots=True)
class ChangePage:
    """One page of record changes.

    :param changes: The changes, oldest first; a record appears at most once per page.
    :param cursor: Pass this to the next ``changes_since`` call; persist it once the changes
        are safely processed.
    :param more: True when more changes are waiting after ``cursor``.
    """

    changes: tuple[RecordChange, ...]
    cursor: str
    more: bool


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One fetched e-mail handed to the host's :class:`~erp_hookspecs.services.MailSink`.

    :param key: The idempotency key: the same message fetched twice carries the same key.
    :param user_id: The user whose mailbox the message came from.
    :param mailbox_id: The host's identifier of the mailbox that was polled.
    :param raw: The message exactly as the server sent it (RFC 5322 bytes).
    :param received_at: When the server received it, if known.
    :param warnings: Problems found while reading it (for example malformed MIME); the message
        is still delivered raw.
    """

    key: str
    user_id: str
    mailbox_id: str
    raw: bytes
    received_at: datetime | None = None
    warnings: tuple[str, ...] = ()


class Delivery(enum.StrEnum):
    """The host's answer to a delivered message."""

    ACCEPTED = "accepted"
    """Stored now."""
    DUPLICATE = "duplicate"
    """A message with this key was already stored; nothing changed."""


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A mailbox the host's mail service polls, passed to :func:`~erp_hookspecs.specs.on_mail_fetch`.

    :param mailbox_id: The host's stable identifier of the mailbox.
    :param user_id: The user the mail belongs to.
    :param protocol: ``"ews"``, ``"imap"``, ``"pop3"`` or any protocol another plugin provides.
    :param settings: The protocol's settings for this mailbox (host, port, login, folder, ...).
    """

    mailbox_id: str
    user_id: str
    protocol: str
    settings: Mapping[str, Any] = field(default_factory=dict)


class Severity(enum.StrEnum):
    """How urgent an :class:`Alert` is."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Alert:
    """A message for a person, raised through :class:`~erp_hookspecs.services.Alerts`.

    :param code: A stable machine-readable code, for example ``"exchange.sync.disabled"``.
    :param message: A sentence the reader can act on; never contains a secret.
    :param severity: How urgent it is.
    :param user_id: The user it concerns, or ``None`` for a tenant-wide alert.
    :param for_admin: True when an administrator must act (for example a wrong client secret).
    """

    code: str
    message: str
    severity: Severity = Severity.WARNING
    user_id: str | None = None
    for_admin: bool = False


@dataclass(frozen=True, slots=True)
class StateLocation:
    """Where a plugin keeps its own state.

    :param directory: A private directory the plugin may write files into (created by the host).
    :param database_url: The database for the plugin's state: ``sqlite:///<path>`` by default,
        or a URL of a shared database the host chose.
    """

    directory: Path
    database_url: str


@dataclass(frozen=True, slots=True)
class TickReport:
    """What a plugin did in one :func:`~erp_hookspecs.specs.on_timer_tick`.

    :param plugin: The name of the plugin that reports.
    :param started_at: When the plugin started working on the tick.
    :param finished_at: When it stopped.
    :param runs: One entry per unit of work (for example per user and item type); the keys
        are documented by the plugin.
    :param errors: Sentences about failures; a failure of one user never hides the others.
    """

    plugin: str
    started_at: datetime
    finished_at: datetime
    runs: tuple[Mapping[str, Any], ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MailFetchReport:
    """What a plugin did in one :func:`~erp_hookspecs.specs.on_mail_fetch`.

    :param mailbox_id: The mailbox that was polled.
    :param delivered: Messages the host accepted now.
    :param duplicates: Messages the host already had.
    :param skipped: Sentences about messages that were not delivered and why (limits).
    :param errors: Sentences about failures.
    """

    mailbox_id: str
    delivered: int = 0
    duplicates: int = 0
    skipped: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
