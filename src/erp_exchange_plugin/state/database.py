"""Connections and transactions over a database URL, in SQL that SQLite and PostgreSQL share.

Only ``sqlite:///<path>`` is implemented. The SQL of this package keeps to what PostgreSQL
accepts unchanged: standard types (TEXT, INTEGER, BIGINT), named parameters written
``:name``, ``INSERT ... ON CONFLICT (...) DO UPDATE``, no ``AUTOINCREMENT``, no ``REPLACE``,
timestamps as ISO-8601 text in UTC. A PostgreSQL backend is a second ``_connect`` (psycopg)
plus rewriting ``:name`` to ``%(name)s``; nothing else changes (docs/state-store.md).

Each thread gets its own connection (WAL mode, so readers never block the writer);
:meth:`Database.transaction` takes the write lock at its start (``BEGIN IMMEDIATE``), so two
processes on one file serialise their batches instead of failing half-way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

Row = sqlite3.Row


class UnsupportedDatabase(ValueError):
    """The database URL names a backend we do not have."""


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///<path>`` URL."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise UnsupportedDatabase(f"state database {parts.scheme!r} is not supported (only sqlite:///<path>)")
    path = unquote(parts.path)
    if not path or path == "/":
        raise UnsupportedDatabase("a sqlite URL needs a file path: sqlite:///<path>")
    return Path(path)


class Database:
    """A database reachable by URL, with one connection per thread.

    :param url: ``sqlite:///<absolute path>``.
    :param busy_timeout: Seconds a writer waits for another process's transaction.
    """

    def __init__(self, url: str, *, busy_timeout: float = 30.0) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()
            raise UnsupportedDatabase(f"{self.path}: SQLite refused WAL mode ({mode})")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            self._all.append(conn)
        return conn

    @property
    def connection(self) -> sqlite3.Connection:
        """This thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back when it raises.

        Nested use joins the outer transaction.
        """
        conn = self.connection
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Any] = ()) -> int:
        """Run one statement; returns the number of rows changed."""
        return self.connection.execute(sql, params).rowcount

    def query(self, sql: str, params: Mapping[str, Any] | Sequence[Any] = ()) -> list[Row]:
        """Run a query and return all rows."""
        return self.connection.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
