"""Mail checkpoints in the plugin's state database (tables of migration 2 in :mod:`..state.migrations`).

- ``mail_imap_folders``: per (mailbox, folder) the UIDVALIDITY and the highest UID handled;
- ``mail_delivered``: per mailbox the SHA-256 of every message the host accepted (or already
  had), with its Message-ID, so a UIDVALIDITY change is reconciled without re-delivering;
- ``mail_pop3_uidls``: per mailbox the UIDLs already handled;
- ``mail_ews_sync``: per (mailbox, folder) the EWS inbox sync state (for the EWS provider).

:class:`MailCheckpoints` is the access layer. Writes are plain statements: callers group them
in :meth:`MailCheckpoints.transaction` (the delivery code commits a batch of accepted messages
at once, see :mod:`.delivery`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from erp_exchange_plugin.state.database import Database
from erp_exchange_plugin.state.store import StateStore


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class ImapCheckpoint:
    """Where the last run left an IMAP folder."""

    uidvalidity: int
    last_uid: int


class MailCheckpoints:
    """Read and write mail checkpoints.

    :param db: The plugin's state database (``StateStore(url).db``), already migrated.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, url: str) -> MailCheckpoints:
        """Open (and migrate) the state database at ``url``; one instance per URL per process."""
        with _opened_lock:
            found = _opened.get(url)
            if found is None:
                found = _opened[url] = cls(StateStore(url).db)
            return found

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes; all or nothing."""
        with self.db.transaction():
            yield

    # -- IMAP --------------------------------------------------------------------------------------

    def imap(self, mailbox_id: str, folder: str) -> ImapCheckpoint | None:
        """The checkpoint of a folder, or ``None`` before its first run."""
        rows = self.db.query(
            "SELECT uidvalidity, last_uid FROM mail_imap_folders WHERE mailbox_id = :m AND folder = :f",
            {"m": mailbox_id, "f": folder},
        )
        return ImapCheckpoint(int(rows[0]["uidvalidity"]), int(rows[0]["last_uid"])) if rows else None

    def put_imap(self, mailbox_id: str, folder: str, checkpoint: ImapCheckpoint) -> None:
        """Store a folder's checkpoint."""
        self.db.execute(
            """INSERT INTO mail_imap_folders (mailbox_id, folder, uidvalidity, last_uid, updated_at)
               VALUES (:m, :f, :v, :u, :now)
               ON CONFLICT (mailbox_id, folder) DO UPDATE SET
                   uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,
                   updated_at = excluded.updated_at""",
            {
                "m": mailbox_id,
                "f": folder,
                "v": checkpoint.uidvalidity,
                "u": checkpoint.last_uid,
                "now": _now(),
            },
        )

    # -- delivered messages ----------------------------------------------------------------------------

    def was_delivered(self, mailbox_id: str, digest: str) -> bool:
        """True when a message with this content digest was handed over and answered."""
        rows = self.db.query(
            "SELECT 1 FROM mail_delivered WHERE mailbox_id = :m AND digest = :d",
            {"m": mailbox_id, "d": digest},
        )
        return bool(rows)

    def delivered_signatures(self, mailbox_id: str, message_ids: Iterable[str]) -> set[tuple[str, int]]:
        """``(Message-ID, size)`` of the delivered messages of the mailbox whose Message-ID is in ``message_ids``."""
        wanted = list(dict.fromkeys(message_ids))
        found: set[tuple[str, int]] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            names = {f"i{n}": value for n, value in enumerate(chunk)}
            placeholders = ", ".join(f":{name}" for name in names)
            rows = self.db.query(
                f"SELECT message_id, size FROM mail_delivered WHERE mailbox_id = :m AND message_id IN ({placeholders})",  # noqa: S608 - placeholders only
                {"m": mailbox_id, **names},
            )
            found.update((str(r["message_id"]), int(r["size"])) for r in rows)
        return found

    def put_delivered(self, mailbox_id: str, digest: str, message_id: str | None, size: int) -> None:
        """Remember a message the host answered ACCEPTED or DUPLICATE for (``size``: its length in bytes)."""
        self.db.execute(
            """INSERT INTO mail_delivered (mailbox_id, digest, message_id, size, delivered_at)
               VALUES (:m, :d, :i, :s, :now) ON CONFLICT (mailbox_id, digest) DO NOTHING""",
            {"m": mailbox_id, "d": digest, "i": message_id, "s": size, "now": _now()},
        )

    def delivered_count(self, mailbox_id: str) -> int:
        """How many messages of the mailbox are remembered as delivered."""
        rows = self.db.query(
            "SELECT COUNT(*) AS n FROM mail_delivered WHERE mailbox_id = :m", {"m": mailbox_id}
        )
        return int(rows[0]["n"])

    # -- POP3 ------------------------------------------------------------------------------------------

    def pop3_uidls(self, mailbox_id: str) -> set[str]:
        """The UIDLs already handled in the mailbox."""
        rows = self.db.query("SELECT uidl FROM mail_pop3_uidls WHERE mailbox_id = :m", {"m": mailbox_id})
        return {str(r["uidl"]) for r in rows}

    def add_pop3_uidl(self, mailbox_id: str, uidl: str) -> None:
        """Remember a handled UIDL."""
        self.db.execute(
            """INSERT INTO mail_pop3_uidls (mailbox_id, uidl, seen_at) VALUES (:m, :u, :now)
               ON CONFLICT (mailbox_id, uidl) DO NOTHING""",
            {"m": mailbox_id, "u": uidl, "now": _now()},
        )

    def forget_pop3_uidls(self, mailbox_id: str, uidls: Iterable[str]) -> None:
        """Forget UIDLs that are no longer on the server."""
        for uidl in uidls:
            self.db.execute(
                "DELETE FROM mail_pop3_uidls WHERE mailbox_id = :m AND uidl = :u",
                {"m": mailbox_id, "u": uidl},
            )

    # -- EWS ---------------------------------------------------------------------------------------------

    def ews_sync_state(self, mailbox_id: str, folder: str = "inbox") -> str | None:
        """The stored ``SyncFolderItems`` state of a folder, or ``None``."""
        rows = self.db.query(
            "SELECT sync_state FROM mail_ews_sync WHERE mailbox_id = :m AND folder = :f",
            {"m": mailbox_id, "f": folder},
        )
        return str(rows[0]["sync_state"]) if rows and rows[0]["sync_state"] is not None else None

    def put_ews_sync_state(self, mailbox_id: str, sync_state: str | None, folder: str = "inbox") -> None:
        """Store a folder's ``SyncFolderItems`` state (``None`` starts over)."""
        self.db.execute(
            """INSERT INTO mail_ews_sync (mailbox_id, folder, sync_state, updated_at)
               VALUES (:m, :f, :s, :now)
               ON CONFLICT (mailbox_id, folder) DO UPDATE SET
                   sync_state = excluded.sync_state, updated_at = excluded.updated_at""",
            {"m": mailbox_id, "f": folder, "s": sync_state, "now": _now()},
        )


_opened: dict[str, MailCheckpoints] = {}
_opened_lock = threading.Lock()
