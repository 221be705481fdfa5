"""The stub host's record stores (:class:`erp_hookspecs.RecordStore`).

One table per entity (``address``, ``appointment``, ``task`` and any extra entity a test asks
for). A row holds the latest state of one record: owner, opaque version, tagged-JSON fields,
``modified_at``, a ``deleted`` flag (deleted records stay as tombstones) and ``seq``, a change
sequence number taken anew on every write. :meth:`StubRecordStore.changes_since` is then a range
scan over ``seq``: each record appears at most once per page, in its latest state, and a record
changed again after a page was read comes back in a later page.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from erp_exchange_plugin.testing.stub_host.codec import as_utc, decode_fields, encode_fields
from erp_exchange_plugin.testing.stub_host.database import Database
from erp_hookspecs import ChangePage, Record, RecordChange, RecordNotFound, VersionConflict


def _new_version() -> str:
    return uuid.uuid4().hex


class StubRecordStore:
    """The records of one entity owned by one user.

    Get one from the host (``host.records("address", "u1")``); a plugin and a test editing
    "as an ERP user" use the same methods. Records of other users are invisible: reading them
    gives ``None``, writing them :class:`~erp_hookspecs.RecordNotFound`.

    :param db: The host's database.
    :param entity: The entity (table) name, already checked by the host.
    :param user_id: The owning user.
    :param clock: Returns the current, timezone-aware time (for ``modified_at``).
    """

    def __init__(self, db: Database, entity: str, user_id: str, clock: Callable[[], datetime]) -> None:
        self._db = db
        self.entity = entity
        self.user_id = user_id
        self._clock = clock
        # The table name comes from the host's checked list of entities, never from a plugin.
        self._table = f'"{entity}"'

    def _cursor(self, seq: int) -> str:
        # The entity and user are part of the cursor so that a cursor of another store (an
        # easy mistake with one cursor per user and item type) is an error, not lost changes.
        return f"{self.entity}:{self.user_id}:{seq}"

    def _parse_cursor(self, cursor: str | None) -> int:
        if cursor is None:
            return 0
        prefix = self._cursor(0)[:-1]
        if isinstance(cursor, str) and cursor.startswith(prefix):
            seq = cursor[len(prefix) :]
            if seq.isascii() and seq.isdigit():
                return int(seq)
        raise ValueError(f"not a cursor of the {self.entity!r} records of user {self.user_id!r}: {cursor!r}")

    def __repr__(self) -> str:
        return f"StubRecordStore(entity={self.entity!r}, user_id={self.user_id!r})"

    def _record(self, row: sqlite3.Row) -> Record:
        return Record(
            record_id=row["record_id"],
            version=row["version"],
            fields=decode_fields(row["fields"]),
            modified_at=datetime.fromisoformat(row["modified_at"]),
        )

    def _row(self, conn: sqlite3.Connection, record_id: str) -> sqlite3.Row | None:
        """The live (not deleted) row of ``record_id`` owned by this user."""
        row: sqlite3.Row | None = conn.execute(
            f"SELECT * FROM {self._table} WHERE record_id = ? AND owner_id = ? AND deleted = 0",  # noqa: S608
            (record_id, self.user_id),
        ).fetchone()
        return row

    def _next_seq(self, conn: sqlite3.Connection) -> int:
        # Rows are never removed, so MAX(seq) only grows; BEGIN IMMEDIATE makes this atomic.
        value = conn.execute(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {self._table}").fetchone()[0]  # noqa: S608
        return int(value)

    def changes_since(self, cursor: str | None, limit: int = 500) -> ChangePage:
        """Return this user's creations, updates and deletions after ``cursor``, oldest first.

        Each record appears at most once per page, in its latest state; a deleted record is
        a tombstone (``deleted=True``, ``record=None``). A record created and deleted between
        two calls is reported as a tombstone too.

        :param cursor: ``None`` to start from the beginning, or the ``cursor`` of an earlier page.
        :param limit: The most changes in one page (at least 1).
        :returns: The page; ``cursor`` is unchanged when there is nothing new, and ``more``
            says whether another call would return changes now.
        :raises ValueError: ``cursor`` is not a cursor of this store (another entity's or
            another user's, for example), or ``limit < 1``.
        """
        after = self._parse_cursor(cursor)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        rows = self._db.query(
            f"SELECT * FROM {self._table} WHERE owner_id = ? AND seq > ? ORDER BY seq LIMIT ?",  # noqa: S608
            (self.user_id, after, limit + 1),
        )
        more = len(rows) > limit
        rows = rows[:limit]
        changes = tuple(
            RecordChange(record_id=row["record_id"], deleted=True)
            if row["deleted"]
            else RecordChange(record_id=row["record_id"], deleted=False, record=self._record(row))
            for row in rows
        )
        new_cursor = self._cursor(rows[-1]["seq"] if rows else after)
        return ChangePage(changes=changes, cursor=new_cursor, more=more)

    def get(self, record_id: str) -> Record | None:
        """Return the record, or ``None`` when it does not exist, was deleted or is another user's."""
        with self._db.read() as conn:
            row = self._row(conn, record_id)
        return self._record(row) if row is not None else None

    def put(self, record_id: str | None, fields: Mapping[str, Any], expected_version: str | None) -> Record:
        """Create or replace a record and return it as stored, with its new version.

        :param record_id: ``None`` to create a record (the host picks its id), or the id of
            a record of this user to replace.
        :param fields: All fields of the record: JSON values plus ``datetime``, ``date``,
            ``Decimal`` and ``bytes``, which come back as the same types (tuples come back
            as lists; compare with the returned record, not with what you passed).
        :param expected_version: ``None`` on creation; on replacement the version you last
            saw. Replacing with ``None`` is a :class:`~erp_hookspecs.VersionConflict` (the
            stub host never overwrites blindly).
        :raises erp_hookspecs.VersionConflict: the record is at another version.
        :raises erp_hookspecs.RecordNotFound: the record to replace does not exist (any more).
        :raises TypeError: a field value cannot be stored.
        :raises ValueError: ``expected_version`` was given on creation.
        """
        encoded = encode_fields(fields)
        now = as_utc(self._clock()).isoformat()
        version = _new_version()
        with self._db.transaction() as conn:
            seq = self._next_seq(conn)
            if record_id is None:
                if expected_version is not None:
                    raise ValueError("a new record has no version: pass expected_version=None")
                record_id = str(uuid.uuid4())
                conn.execute(
                    f"INSERT INTO {self._table} "  # noqa: S608
                    "(record_id, owner_id, version, fields, modified_at, deleted, seq) "
                    "VALUES (?, ?, ?, ?, ?, 0, ?)",
                    (record_id, self.user_id, version, encoded, now, seq),
                )
            else:
                row = self._row(conn, record_id)
                if row is None:
                    raise RecordNotFound(record_id)
                if row["version"] != expected_version:
                    raise VersionConflict(record_id, expected_version, row["version"])
                conn.execute(
                    f"UPDATE {self._table} SET version = ?, fields = ?, modified_at = ?, seq = ? "  # noqa: S608
                    "WHERE record_id = ?",
                    (version, encoded, now, seq, record_id),
                )
            row = self._row(conn, record_id)
        assert row is not None
        return self._record(row)

    def delete(self, record_id: str, expected_version: str | None) -> None:
        """Delete a record, leaving a tombstone that :meth:`changes_since` reports.

        :param record_id: A record of this user.
        :param expected_version: The version you last saw, or ``None`` to delete whatever
            version is there.
        :raises erp_hookspecs.VersionConflict: the record is at another version.
        :raises erp_hookspecs.RecordNotFound: the record does not exist (or was deleted).
        """
        now = as_utc(self._clock()).isoformat()
        with self._db.transaction() as conn:
            row = self._row(conn, record_id)
            if row is None:
                raise RecordNotFound(record_id)
            if expected_version is not None and row["version"] != expected_version:
                raise VersionConflict(record_id, expected_version, row["version"])
            conn.execute(
                f"UPDATE {self._table} SET deleted = 1, version = ?, modified_at = ?, seq = ? "  # noqa: S608
                "WHERE record_id = ?",
                (_new_version(), now, self._next_seq(conn), record_id),
            )
