"""The small validated dataclasses our extension hooks yield: item types and mail providers."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


class PluginError(Exception):
    """An extension broke a rule (bad declaration, duplicate name); the message names the provider."""


class RecordInvalid(ValueError):
    """A record (from the ERP or mapped from Exchange) cannot be synced; nothing of it is written.

    :param field: The field that is wrong.
    :param message: What is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _as_dict(fields: Mapping[str, Any]) -> dict[str, Any]:
    return dict(fields)


def _check_name(kind: str, name: object) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise PluginError(f"{kind} name {name!r} must be lower-case letters, digits and _ (a letter first)")


@dataclass(frozen=True, slots=True)
class EwsMapping:
    """How an item type maps to EWS through exchangelib.

    :param folder: The distinguished folder name (``"contacts"``, ``"calendar"``, ``"tasks"``).
    :param item_class: The exchangelib item class (``exchangelib.Contact``, ...).
    :param fields: The exchangelib field names to fetch; nothing else is requested.
    :param to_exchange: ERP record fields -> exchangelib attribute values.
    :param to_erp: An exchangelib item -> ERP record fields.
    :param send_together: Groups of exchangelib attributes that are sent together when any of them
        changed: attributes whose values Exchange (or ``normalize``) ties to each other, such as a task's
        status and percent complete, or an event's start, end, zones, all-day flag and recurrence. An
        update otherwise sends only the attributes that changed since the last sync.
    """

    folder: str
    item_class: type
    fields: tuple[str, ...]
    to_exchange: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    to_erp: Callable[[Any], Mapping[str, Any]]
    send_together: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        if not self.fields:
            raise PluginError("an EWS mapping must name the fields it fetches")


def canonical_fingerprint(fields: Mapping[str, Any]) -> str:
    """A content fingerprint: SHA-256 of the fields as canonical JSON (keys sorted)."""
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ItemType:
    """One kind of item the sync engine syncs.

    :param name: Unique name, for example ``"contacts"`` (lower-case, digits, ``_``).
    :param erp_entity: The host's entity whose record store holds the ERP side (``"address"``).
    :param description: One line for ``erp-exchange plugins`` and the docs.
    :param backends: One mapping per Exchange backend; ``"ews"`` holds an :class:`EwsMapping`.
        A Microsoft Graph backend later adds its own key beside it.
    :param normalize: ERP record fields -> the canonical fields the item type syncs (trimmed,
        empty strings as ``None``, ...); raises :class:`RecordInvalid` naming the bad field.
        Both sides pass through it, so equal content has equal fingerprints.
    :param fingerprint: Content fingerprint of normalized fields; both sides are compared
        through it after mapping, so it must ignore what the mapping does not carry.
    :param span: For item types with a time (calendar items): the ``(start, end)`` of normalized
        fields, as aware datetimes, so the engine can leave items outside the sync window alone.
        ``None``: the window does not apply.
    """

    name: str
    erp_entity: str
    description: str
    backends: Mapping[str, object]
    normalize: Callable[[Mapping[str, Any]], dict[str, Any]] = field(default=_as_dict)
    fingerprint: Callable[[Mapping[str, Any]], str] = field(default=canonical_fingerprint)
    span: Callable[[Mapping[str, Any]], tuple[datetime, datetime] | None] | None = None
    default_window_days: tuple[int, int] | None = None
    """``(days back, days ahead)`` of the sync window when the settings name none (calendar: 30, 365)."""

    def __post_init__(self) -> None:
        _check_name("item type", self.name)
        if not isinstance(self.erp_entity, str) or not self.erp_entity:
            raise PluginError(f"item type {self.name!r} needs an erp_entity")
        if not self.backends:
            raise PluginError(f"item type {self.name!r} has no backend mapping")
        ews = self.backends.get("ews")
        if ews is not None and not isinstance(ews, EwsMapping):
            raise PluginError(f"item type {self.name!r}: backends['ews'] must be an EwsMapping")


@dataclass(frozen=True, slots=True)
class MailProvider:
    """A mail protocol ``on_mail_fetch`` can serve.

    :param protocol: The protocol name the host's mailboxes carry (``"imap"``).
    :param description: One line for ``erp-exchange plugins`` and the docs.
    :param fetcher: ``fetcher(host, mailbox, context) -> MailFetchReport``: fetches one mailbox.
    """

    protocol: str
    description: str
    fetcher: Callable[..., Any]

    def __post_init__(self) -> None:
        _check_name("mail protocol", self.protocol)
        if not callable(self.fetcher):
            raise PluginError(f"mail provider {self.protocol!r}: fetcher is not callable")
