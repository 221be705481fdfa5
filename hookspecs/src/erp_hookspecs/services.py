"""The host services: what a host hands to its plugins.

A host passes one object satisfying :class:`HostServices` to every hook. These are
:class:`typing.Protocol` classes: a host implements them with whatever it has (an ORM, a REST
client, plain SQL); ``erp_exchange_plugin.testing.StubHost`` is a complete SQLite example.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from erp_hookspecs.types import (
    Alert,
    ChangePage,
    Delivery,
    InboundMessage,
    Record,
    StateLocation,
    User,
)


@runtime_checkable
class UserDirectory(Protocol):
    """The host's users."""

    def with_feature(self, feature: str) -> Sequence[User]:
        """Return the users who have ``feature`` (for example ``"exchange"``) enabled.

        :param feature: The name of the feature, which is the plugin's settings section.
        :returns: The users, in a stable order.
        """
        ...

    def get(self, user_id: str) -> User | None:
        """Return the user with this id, or ``None`` when there is none."""
        ...


@runtime_checkable
class SettingsSource(Protocol):
    """Raw, unvalidated settings as the host stores them, one section per plugin."""

    def tenant_section(self, section: str) -> Mapping[str, Any]:
        """Return the tenant-wide values an administrator set for ``section`` (empty if none)."""
        ...

    def user_section(self, user_id: str, section: str) -> Mapping[str, Any]:
        """Return the values the user set for ``section`` (empty if none)."""
        ...


@runtime_checkable
class RecordStore(Protocol):
    """The records of one ERP entity (for example ``"address"``) that one user syncs.

    Every write carries the version the caller last saw (optimistic locking): a host raises
    :class:`~erp_hookspecs.errors.VersionConflict` when the record changed in the meantime.
    """

    def changes_since(self, cursor: str | None, limit: int = 500) -> ChangePage:
        """Return the changes after ``cursor`` (``None``: from the beginning), oldest first.

        Changes made through :meth:`put` and :meth:`delete` are reported too; callers tell
        their own writes apart by content. A record changed again after its page was read
        comes back in a later page.

        :param cursor: A cursor returned by an earlier call of this same store (entity and
            user), or ``None``.
        :param limit: The most changes to return in one page.
        """
        ...

    def get(self, record_id: str) -> Record | None:
        """Return the record, or ``None`` when it does not exist."""
        ...

    def put(self, record_id: str | None, fields: Mapping[str, Any], expected_version: str | None) -> Record:
        """Create (``record_id`` is ``None``) or replace a record and return it with its new version.

        A host stores ``fields`` so that they come back unchanged: JSON values (str, int,
        float, bool, None, lists, string-keyed mappings) plus ``datetime.date`` and
        timezone-aware ``datetime.datetime``. A value that comes back changed would look
        like an edit to a sync engine.

        :param record_id: The record to replace, or ``None`` to create one.
        :param fields: All fields of the record.
        :param expected_version: The version the caller last saw; ``None`` on creation.
            Replacing a record with ``expected_version=None`` is a conflict: a host never
            overwrites blindly.
        :raises erp_hookspecs.errors.VersionConflict: the record is at another version.
        :raises erp_hookspecs.errors.RecordNotFound: the record to replace does not exist.
        """
        ...

    def delete(self, record_id: str, expected_version: str | None) -> None:
        """Delete a record.

        :param expected_version: The version the caller last saw, or ``None`` to delete
            whatever version is there.
        :raises erp_hookspecs.errors.VersionConflict: the record is at another version.
        :raises erp_hookspecs.errors.RecordNotFound: the record does not exist.
        """
        ...


@runtime_checkable
class MailSink(Protocol):
    """The host's mail store, idempotent by message key."""

    def deliver(self, message: InboundMessage) -> Delivery:
        """Store ``message`` unless a message with the same key is already stored.

        Keys are unique across all mailboxes of the host (plugins make them so).

        Returning means the message is durably stored (or was already): a plugin moves its
        checkpoint only after this returns.
        """
        ...


@runtime_checkable
class Alerts(Protocol):
    """Messages for users and administrators."""

    def raise_alert(self, alert: Alert) -> None:
        """Show ``alert`` to its user, or to the administrators when ``alert.for_admin``.

        Plugins raise an alert when a state begins (for example when a user's sync gets
        disabled), not on every timer beat; a host may still fold repeats of one
        ``(code, user_id)`` together.
        """
        ...


@runtime_checkable
class HostServices(Protocol):
    """Everything a host hands to its plugins, passed as ``host`` to every hook."""

    @property
    def users(self) -> UserDirectory:
        """The host's users."""
        ...

    @property
    def settings(self) -> SettingsSource:
        """Raw user and tenant settings."""
        ...

    def records(self, entity: str, user_id: str) -> RecordStore:
        """Return the record store of ``entity`` as seen by ``user_id``.

        :raises erp_hookspecs.errors.UnknownEntity: the host has no such entity.
        """
        ...

    @property
    def mail_sink(self) -> MailSink:
        """Where fetched mail goes."""
        ...

    def state_location(self, plugin: str) -> StateLocation:
        """Return where the plugin named ``plugin`` keeps its own state."""
        ...

    @property
    def alerts(self) -> Alerts:
        """Where alerts go."""
        ...
