"""The access layer over the state database: installation id, sync pairs, cursors, intent journal.

Every method is one short statement; callers group them with :meth:`StateStore.transaction`
so that a batch's mapping, cursor and sync state are committed together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from erp_exchange_plugin.state.database import Database, Row
from erp_exchange_plugin.state.migrations import migrate


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Pair:
    """One ERP record paired with one Exchange item, as both were at the last sync.

    :param erp_fp: Fingerprint of the ERP record's fields at the last sync.
    :param ex_fp: Fingerprint of the Exchange item (mapped to ERP fields) at the last sync.
    """

    user_id: str
    item_type: str
    erp_id: str
    erp_version: str | None
    erp_fp: str | None
    ex_id: str | None
    ex_change_key: str | None
    ex_fp: str | None
    pending_delete: str | None = None
    """``"erp"`` or ``"exchange"``: the other side deleted the item; the delete on this side
    waits for the deletion guard."""
    content: str | None = None
    """The normalized fields both sides held at the last sync (canonical JSON): the base of a
    field-wise merge, and what lets an update send only the fields that changed. :meth:`StateStore.pairs`
    does not load it (it would hold every item's content in memory): it is :data:`UNLOADED` there,
    read with :meth:`StateStore.content` when needed, and left as stored when such a pair is written."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the last committed batch left each side: the ERP cursor and the EWS sync state."""

    erp_cursor: str | None = None
    ex_sync_state: str | None = None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """An intent written before a write, removed once its outcome is committed.

    :param op: What was about to happen (``create_exchange``, ``create_erp``, ...).
    """

    intent_id: str
    user_id: str
    item_type: str
    op: str
    erp_id: str | None
    ex_id: str | None
    fingerprint: str | None
    erp_version: str | None = None


UNLOADED = "\x00unloaded"
"""The content of a pair read without it: writing the pair keeps the stored content."""


def _pair(row: Row) -> Pair:
    return Pair(
        row["user_id"],
        row["item_type"],
        row["erp_id"],
        row["erp_version"],
        row["erp_fp"],
        row["ex_id"],
        row["ex_change_key"],
        row["ex_fp"],
        row["pending_delete"],
        row["content"] if "content" in row.keys() else UNLOADED,  # noqa: SIM118 - a Row's "in" looks at values
    )


class StateStore:
    """The plugin's state in one database.

    :param url: The database URL from the host's ``state_location`` (``sqlite:///<path>``).
    """

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        migrate(self.db)
        self.installation_id = self._installation_id()

    def _installation_id(self) -> str:
        with self.db.transaction():
            rows = self.db.query("SELECT id FROM installation")
            if rows:
                return str(rows[0]["id"])
            new = str(uuid.uuid4())
            self.db.execute(
                "INSERT INTO installation (id, created_at) VALUES (:id, :t)", {"id": new, "t": _now()}
            )
            return new

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes; all or nothing."""
        with self.db.transaction():
            yield

    def close(self) -> None:
        """Close the database connections."""
        self.db.close()

    # -- pairs -----------------------------------------------------------------------------------

    def pairs(self, user_id: str, item_type: str) -> dict[str, Pair]:
        """Every pair of ``user_id``'s ``item_type``, by ERP id."""
        rows = self.db.query(
            """SELECT user_id, item_type, erp_id, erp_version, erp_fp, ex_id, ex_change_key, ex_fp, pending_delete
               FROM sync_pairs WHERE user_id = :u AND item_type = :t""",
            {"u": user_id, "t": item_type},
        )
        return {row["erp_id"]: _pair(row) for row in rows}

    def content(self, user_id: str, item_type: str, erp_id: str) -> str | None:
        """The stored content of one pair (see :attr:`Pair.content`)."""
        rows = self.db.query(
            "SELECT content FROM sync_pairs WHERE user_id = :u AND item_type = :t AND erp_id = :e",
            {"u": user_id, "t": item_type, "e": erp_id},
        )
        return rows[0]["content"] if rows else None

    def pair_count(self, user_id: str, item_type: str) -> int:
        """How many pairs ``user_id``'s ``item_type`` has."""
        rows = self.db.query(
            "SELECT COUNT(*) AS n FROM sync_pairs WHERE user_id = :u AND item_type = :t",
            {"u": user_id, "t": item_type},
        )
        return int(rows[0]["n"])

    def put_pair(self, pair: Pair) -> None:
        """Insert or replace the pair of ``pair.erp_id``."""
        params: dict[str, Any] = {
            "u": pair.user_id,
            "t": pair.item_type,
            "e": pair.erp_id,
            "ev": pair.erp_version,
            "efp": pair.erp_fp,
            "x": pair.ex_id,
            "xck": pair.ex_change_key,
            "xfp": pair.ex_fp,
            "pd": pair.pending_delete,
            "c": None if pair.content == UNLOADED else pair.content,
            "keep": pair.content == UNLOADED,
            "now": _now(),
        }
        self.db.execute(
            """INSERT INTO sync_pairs
                   (user_id, item_type, erp_id, erp_version, erp_fp, ex_id, ex_change_key, ex_fp,
                    content, pending_delete, updated_at)
               VALUES (:u, :t, :e, :ev, :efp, :x, :xck, :xfp, :c, :pd, :now)
               ON CONFLICT (user_id, item_type, erp_id) DO UPDATE SET
                   erp_version = excluded.erp_version, erp_fp = excluded.erp_fp, ex_id = excluded.ex_id,
                   ex_change_key = excluded.ex_change_key, ex_fp = excluded.ex_fp,
                   content = CASE WHEN :keep THEN sync_pairs.content ELSE excluded.content END,
                   pending_delete = excluded.pending_delete,
                   updated_at = excluded.updated_at""",
            params,
        )

    def delete_pair(self, user_id: str, item_type: str, erp_id: str) -> None:
        """Forget a pair (both sides are gone)."""
        self.db.execute(
            "DELETE FROM sync_pairs WHERE user_id = :u AND item_type = :t AND erp_id = :e",
            {"u": user_id, "t": item_type, "e": erp_id},
        )

    # -- cursors ---------------------------------------------------------------------------------

    def cursor(self, user_id: str, item_type: str) -> Cursor:
        """The committed cursors of ``user_id``'s ``item_type`` (empty before the first sync)."""
        rows = self.db.query(
            "SELECT erp_cursor, ex_sync_state FROM sync_cursors WHERE user_id = :u AND item_type = :t",
            {"u": user_id, "t": item_type},
        )
        return Cursor(rows[0]["erp_cursor"], rows[0]["ex_sync_state"]) if rows else Cursor()

    def put_cursor(self, user_id: str, item_type: str, cursor: Cursor) -> None:
        """Store both cursors."""
        self.db.execute(
            """INSERT INTO sync_cursors (user_id, item_type, erp_cursor, ex_sync_state, updated_at)
               VALUES (:u, :t, :c, :s, :now)
               ON CONFLICT (user_id, item_type) DO UPDATE SET
                   erp_cursor = excluded.erp_cursor, ex_sync_state = excluded.ex_sync_state,
                   updated_at = excluded.updated_at""",
            {"u": user_id, "t": item_type, "c": cursor.erp_cursor, "s": cursor.ex_sync_state, "now": _now()},
        )

    # -- intent journal --------------------------------------------------------------------------

    def journal(
        self,
        user_id: str,
        item_type: str,
        op: str,
        *,
        erp_id: str | None = None,
        ex_id: str | None = None,
        fingerprint: str | None = None,
        erp_version: str | None = None,
    ) -> JournalEntry:
        """Write an intent (commit it before the write it announces)."""
        entry = JournalEntry(
            str(uuid.uuid4()), user_id, item_type, op, erp_id, ex_id, fingerprint, erp_version
        )
        self.db.execute(
            """INSERT INTO sync_journal
                   (intent_id, user_id, item_type, op, erp_id, ex_id, erp_version, fingerprint, created_at)
               VALUES (:i, :u, :t, :op, :e, :x, :ev, :fp, :now)""",
            {
                "i": entry.intent_id,
                "u": user_id,
                "t": item_type,
                "op": op,
                "e": erp_id,
                "x": ex_id,
                "fp": fingerprint,
                "ev": erp_version,
                "now": _now(),
            },
        )
        return entry

    def intents(self, user_id: str, item_type: str) -> list[JournalEntry]:
        """Intents a crashed run left behind, oldest first."""
        rows = self.db.query(
            "SELECT * FROM sync_journal WHERE user_id = :u AND item_type = :t ORDER BY created_at, intent_id",
            {"u": user_id, "t": item_type},
        )
        return [
            JournalEntry(
                r["intent_id"],
                r["user_id"],
                r["item_type"],
                r["op"],
                r["erp_id"],
                r["ex_id"],
                r["fingerprint"],
            )
            for r in rows
        ]

    def forget_intent(self, intent_id: str) -> None:
        """The intent's outcome is committed (or known not to have happened)."""
        self.db.execute("DELETE FROM sync_journal WHERE intent_id = :i", {"i": intent_id})

    def forget_intents_for(self, user_id: str, item_type: str, op: str, ex_ids: list[str]) -> None:
        """Forget the intents of ``op`` about these Exchange items."""
        for ex_id in ex_ids:
            self.db.execute(
                "DELETE FROM sync_journal WHERE user_id = :u AND item_type = :t AND op = :op AND ex_id = :x",
                {"u": user_id, "t": item_type, "op": op, "x": ex_id},
            )
