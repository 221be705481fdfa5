"""The state schema, as numbered migrations applied in order, each in its own transaction.

Add a migration by appending to :data:`MIGRATIONS` (never edit a released one). A database
newer than this code (a migration we do not know) is refused rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from erp_exchange_plugin.state.database import Database


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: its number, what it does, and its statements."""

    version: int
    description: str
    statements: tuple[str, ...]


class SchemaTooNew(RuntimeError):
    """The state database was written by a newer version of the plugin."""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "installation id, sync pairs, cursors, intent journal",
        (
            """CREATE TABLE installation (
                id TEXT PRIMARY KEY,
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE sync_pairs (
                user_id TEXT NOT NULL,
                item_type TEXT NOT NULL,
                erp_id TEXT NOT NULL,
                erp_version TEXT,
                erp_fp TEXT,
                ex_id TEXT,
                ex_change_key TEXT,
                ex_fp TEXT,
                content TEXT,
                pending_delete TEXT,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (user_id, item_type, erp_id)
            )""",
            "CREATE UNIQUE INDEX sync_pairs_by_ex_id ON sync_pairs (user_id, item_type, ex_id)",
            """CREATE TABLE sync_cursors (
                user_id TEXT NOT NULL,
                item_type TEXT NOT NULL,
                erp_cursor TEXT,
                ex_sync_state TEXT,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (user_id, item_type)
            )""",
            """CREATE TABLE sync_journal (
                intent_id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                item_type TEXT NOT NULL,
                op TEXT NOT NULL,
                erp_id TEXT,
                ex_id TEXT,
                erp_version TEXT,
                fingerprint TEXT,
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX sync_journal_by_user ON sync_journal (user_id, item_type)",
        ),
    ),
    Migration(
        2,
        "mail checkpoints: IMAP UIDVALIDITY and last UID, delivered messages, POP3 UIDLs, EWS inbox sync state",
        (
            """CREATE TABLE mail_imap_folders (
                mailbox_id TEXT NOT NULL,
                folder TEXT NOT NULL,
                uidvalidity BIGINT NOT NULL,
                last_uid BIGINT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (mailbox_id, folder)
            )""",
            """CREATE TABLE mail_delivered (
                mailbox_id TEXT NOT NULL,
                digest TEXT NOT NULL,
                message_id TEXT,
                size BIGINT NOT NULL,
                delivered_at TEXT NOT NULL,
                PRIMARY KEY (mailbox_id, digest)
            )""",
            "CREATE INDEX mail_delivered_by_message_id ON mail_delivered (mailbox_id, message_id)",
            """CREATE TABLE mail_pop3_uidls (
                mailbox_id TEXT NOT NULL,
                uidl TEXT NOT NULL,
                seen_at TEXT NOT NULL,
                PRIMARY KEY (mailbox_id, uidl)
            )""",
            """CREATE TABLE mail_ews_sync (
                mailbox_id TEXT NOT NULL,
                folder TEXT NOT NULL,
                sync_state TEXT,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (mailbox_id, folder)
            )""",
        ),
    ),
    Migration(
        3,
        "scheduler: leases per user and mailbox, run health per user and scope, the host timer's last tick",
        (
            """CREATE TABLE leases (
                resource TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                taken_at TEXT NOT NULL,
                expires_at TEXT NOT NULL
            )""",
            """CREATE TABLE run_health (
                user_id TEXT NOT NULL,
                scope TEXT NOT NULL,
                state TEXT NOT NULL,
                failures INTEGER NOT NULL,
                next_due_at TEXT,
                last_started_at TEXT,
                last_success_at TEXT,
                last_error_at TEXT,
                last_error_code TEXT,
                last_error_message TEXT,
                last_counts TEXT,
                disabled_at TEXT,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (user_id, scope)
            )""",
            """CREATE TABLE timer_ticks (
                name TEXT PRIMARY KEY,
                last_tick_at TEXT NOT NULL,
                holder TEXT NOT NULL
            )""",
        ),
    ),
)


def current_version(db: Database) -> int:
    """The newest migration applied (0 for an empty database)."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )"""
    )
    rows = db.query("SELECT MAX(version) AS v FROM schema_migrations")
    return int(rows[0]["v"] or 0)


def migrate(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply the pending migrations; returns the versions applied now."""
    known = max((m.version for m in migrations), default=0)
    applied: list[int] = []
    with db.transaction():
        version = current_version(db)
    if version > known:
        raise SchemaTooNew(
            f"the state database {db.path} is at schema version {version}, this plugin knows up to {known}: "
            "upgrade the plugin (never downgrade it over an existing state database)"
        )
    for migration in sorted(migrations, key=lambda m: m.version):
        with db.transaction():
            if migration.version <= current_version(db):
                continue
            for statement in migration.statements:
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES (:v, :d, :t)",
                {"v": migration.version, "d": migration.description, "t": datetime.now(UTC).isoformat()},
            )
        applied.append(migration.version)
    return applied
