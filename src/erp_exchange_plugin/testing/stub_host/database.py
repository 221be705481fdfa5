"""The stub host's SQLite database: one connection, one lock, the schema.

Every service object of the stub host goes through :class:`Database`, so the whole host is
thread-safe: the sync engine may call record stores from worker threads while a test edits
records from the main thread.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BUILTIN_ENTITIES: tuple[str, ...] = ("address", "appointment", "task")
"""The ERP entities every stub host has: contacts, calendar items and tasks."""

_ENTITY_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")

SCHEMA_VERSION = 1

_BASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id      TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    email        TEXT,
    features     TEXT NOT NULL DEFAULT '[]'   -- JSON list of enabled feature names
);
CREATE TABLE IF NOT EXISTS tenant_settings (
    section TEXT PRIMARY KEY,
    "values" TEXT NOT NULL                     -- JSON object
);
CREATE TABLE IF NOT EXISTS user_settings (
    user_id  TEXT NOT NULL REFERENCES users(user_id),
    section  TEXT NOT NULL,
    "values" TEXT NOT NULL,                    -- JSON object
    PRIMARY KEY (user_id, section)
);
CREATE TABLE IF NOT EXISTS received_mail (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,         -- the idempotency key
    user_id      TEXT NOT NULL,
    mailbox_id   TEXT NOT NULL,
    raw          BLOB NOT NULL,
    received_at  TEXT,                         -- ISO 8601, as the plugin reported it
    warnings     TEXT NOT NULL DEFAULT '[]',   -- JSON list
    delivered_at TEXT NOT NULL                 -- ISO 8601 UTC, when the host stored it
);
CREATE TABLE IF NOT EXISTS alerts (
    id        INTEGER PRIMARY KEY,
    code      TEXT NOT NULL,
    message   TEXT NOT NULL,
    severity  TEXT NOT NULL,
    user_id   TEXT,
    for_admin INTEGER NOT NULL,
    raised_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hook_calls (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    plugins    TEXT NOT NULL,                  -- JSON list of the implementing plugins' names
    arguments  TEXT NOT NULL,                  -- JSON summary, without ``host``
    result     TEXT,                           -- JSON summary, NULL when the call raised
    exception  TEXT,                           -- "Type: message" when the call raised
    started_at TEXT NOT NULL,
    duration   REAL NOT NULL                   -- seconds
);
CREATE INDEX IF NOT EXISTS hook_calls_name ON hook_calls (name, id);
"""

_ENTITY_SCHEMA = """
CREATE TABLE IF NOT EXISTS "{table}" (
    record_id   TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL,
    version     TEXT NOT NULL,
    fields      TEXT NOT NULL,                 -- tagged JSON, see codec.py
    modified_at TEXT NOT NULL,                 -- ISO 8601 UTC
    deleted     INTEGER NOT NULL DEFAULT 0,
    seq         INTEGER NOT NULL UNIQUE        -- change sequence, new on every write
);
CREATE INDEX IF NOT EXISTS "{table}_owner_seq" ON "{table}" (owner_id, seq);
"""


def check_entity_name(entity: str) -> str:
    """Return ``entity`` when it is usable as a table name, else raise :class:`ValueError`."""
    if not _ENTITY_NAME.fullmatch(entity):
        raise ValueError(f"entity names are lower-case identifiers, not {entity!r}")
    return entity


class Database:
    """One SQLite connection in WAL mode, shared by all threads and guarded by a lock.

    :param path: The database file; created with its schema when missing.
    :param entities: The entity tables to create (names checked by :func:`check_entity_name`).
    """

    def __init__(self, path: Path, entities: Iterable[str]) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        # isolation_level=None: no implicit transactions, we BEGIN and COMMIT ourselves.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._closed = False
        try:
            self._conn.row_factory = sqlite3.Row
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise RuntimeError(f"SQLite refused WAL mode for {path} (got {mode!r}): use a local disk")
            # FULL: a commit survives a power cut, so MailSink.deliver is durable when it returns.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._create_schema([check_entity_name(e) for e in entities])
        except BaseException:
            self._conn.close()
            raise

    def _create_schema(self, entities: list[str]) -> None:
        script = _BASE_SCHEMA + "".join(_ENTITY_SCHEMA.format(table=e) for e in entities)
        with self._lock:
            # executescript commits on its own; it runs outside our transaction helper.
            self._conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={SCHEMA_VERSION};\nCOMMIT;"
            )

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and a write transaction; commit on success, roll back on error.

        Nested uses join the outermost transaction.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                # Also when COMMIT itself failed: never leave a transaction open behind the lock.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and hand out the connection for reads (autocommit, no transaction)."""
        with self._lock:
            yield self._conn

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        """Run one read-only statement under the lock and return all rows."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()
