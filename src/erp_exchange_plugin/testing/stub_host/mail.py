"""The stub host's mail store (:class:`erp_hookspecs.MailSink`), idempotent by message key."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from erp_exchange_plugin.testing.stub_host.codec import as_utc
from erp_exchange_plugin.testing.stub_host.database import Database
from erp_hookspecs import Delivery, InboundMessage


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    """A message the stub host stored, as tests read it back.

    :param key: The idempotency key the plugin gave.
    :param user_id: The user the message belongs to.
    :param mailbox_id: The mailbox it was fetched from.
    :param raw: The RFC 5322 bytes, exactly as delivered.
    :param received_at: When the server received it, as the plugin reported (or ``None``).
    :param warnings: The plugin's warnings about the message.
    :param delivered_at: When the stub host stored it (UTC).
    """

    key: str
    user_id: str
    mailbox_id: str
    raw: bytes
    received_at: datetime | None
    warnings: tuple[str, ...]
    delivered_at: datetime


def _received(row: sqlite3.Row) -> ReceivedMail:
    return ReceivedMail(
        key=row["key"],
        user_id=row["user_id"],
        mailbox_id=row["mailbox_id"],
        raw=bytes(row["raw"]),
        received_at=datetime.fromisoformat(row["received_at"]) if row["received_at"] else None,
        warnings=tuple(json.loads(row["warnings"])),
        delivered_at=datetime.fromisoformat(row["delivered_at"]),
    )


class StubMailSink:
    """Stores delivered messages in the ``received_mail`` table, once per key.

    :param db: The host's database.
    :param clock: Returns the current, timezone-aware time (for ``delivered_at``).
    """

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def deliver(self, message: InboundMessage) -> Delivery:
        """Store ``message`` unless its key is stored already.

        The row is committed (``synchronous=FULL``) before this returns, so a plugin may move
        its checkpoint as soon as it has the answer. A second delivery with the same key
        changes nothing, even when the bytes differ.

        :returns: :attr:`~erp_hookspecs.Delivery.ACCEPTED` when stored now,
            :attr:`~erp_hookspecs.Delivery.DUPLICATE` when the key was known.
        :raises ValueError: the key is empty or ``received_at`` is naive.
        """
        if not message.key:
            raise ValueError("an inbound message needs a non-empty idempotency key")
        received_at = as_utc(message.received_at).isoformat() if message.received_at else None
        with self._db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO received_mail "
                "(key, user_id, mailbox_id, raw, received_at, warnings, delivered_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (
                    message.key,
                    message.user_id,
                    message.mailbox_id,
                    bytes(message.raw),
                    received_at,
                    json.dumps(list(message.warnings)),
                    as_utc(self._clock()).isoformat(),
                ),
            )
            stored = cur.rowcount == 1
        return Delivery.ACCEPTED if stored else Delivery.DUPLICATE

    def received(self, *, user_id: str | None = None, mailbox_id: str | None = None) -> list[ReceivedMail]:
        """Return the stored messages in delivery order, optionally only one user's or mailbox's."""
        rows = self._db.query(
            "SELECT * FROM received_mail WHERE (:user IS NULL OR user_id = :user) "
            "AND (:mailbox IS NULL OR mailbox_id = :mailbox) ORDER BY id",
            {"user": user_id, "mailbox": mailbox_id},
        )
        return [_received(row) for row in rows]
