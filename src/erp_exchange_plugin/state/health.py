"""Run health per user and scope (``sync``, or ``mail:<mailbox id>``), and the host timer's last tick.

One row per user and scope says where the scheduler stands: ``ok``, ``backing_off`` or
``disabled``; consecutive failures; when the next run is due; the last success, the last error
(code and message, never a secret: messages of typed errors are scrubbed) and the counts of the
last run. :mod:`erp_exchange_plugin.scheduler.health` decides the transitions; this module only
reads and writes rows.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from erp_exchange_plugin.state.database import Database, Row
from erp_exchange_plugin.state.leases import stamp

SYNC = "sync"
"""The scope of a user's item-type sync."""


def mail_scope(mailbox_id: str) -> str:
    """The scope of one mailbox's fetch."""
    return f"mail:{mailbox_id}"


class RunState(enum.StrEnum):
    """Where a user's scope stands."""

    OK = "ok"
    BACKING_OFF = "backing_off"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class Health:
    """One user's scope, as the scheduler left it."""

    user_id: str
    scope: str
    state: RunState = RunState.OK
    failures: int = 0
    next_due_at: datetime | None = None
    last_started_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error_code: str | None = None
    last_error_message: str | None = None
    last_counts: dict[str, Any] | None = None
    disabled_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO-8601 text)."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        out["state"] = self.state.value
        return out


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _health(row: Row) -> Health:
    return Health(
        user_id=row["user_id"],
        scope=row["scope"],
        state=RunState(row["state"]),
        failures=int(row["failures"]),
        next_due_at=_time(row["next_due_at"]),
        last_started_at=_time(row["last_started_at"]),
        last_success_at=_time(row["last_success_at"]),
        last_error_at=_time(row["last_error_at"]),
        last_error_code=row["last_error_code"],
        last_error_message=row["last_error_message"],
        last_counts=json.loads(row["last_counts"]) if row["last_counts"] else None,
        disabled_at=_time(row["disabled_at"]),
    )


def get(db: Database, user_id: str, scope: str) -> Health:
    """The health of ``user_id``'s ``scope`` (a fresh ``ok`` one when never run)."""
    rows = db.query("SELECT * FROM run_health WHERE user_id = :u AND scope = :s", {"u": user_id, "s": scope})
    return _health(rows[0]) if rows else Health(user_id, scope)


def all_health(db: Database) -> list[Health]:
    """Every row, by user and scope."""
    return [_health(r) for r in db.query("SELECT * FROM run_health ORDER BY user_id, scope")]


def put(db: Database, health: Health) -> None:
    """Write ``health`` (insert or replace its row)."""

    def t(value: datetime | None) -> str | None:
        return stamp(value) if value is not None else None

    db.execute(
        """INSERT INTO run_health (user_id, scope, state, failures, next_due_at, last_started_at,
               last_success_at, last_error_at, last_error_code, last_error_message, last_counts, disabled_at,
               updated_at)
           VALUES (:u, :s, :state, :f, :due, :start, :ok, :errat, :code, :msg, :counts, :dis, :now)
           ON CONFLICT (user_id, scope) DO UPDATE SET
               state = excluded.state, failures = excluded.failures, next_due_at = excluded.next_due_at,
               last_started_at = excluded.last_started_at, last_success_at = excluded.last_success_at,
               last_error_at = excluded.last_error_at, last_error_code = excluded.last_error_code,
               last_error_message = excluded.last_error_message, last_counts = excluded.last_counts,
               disabled_at = excluded.disabled_at, updated_at = excluded.updated_at""",
        {
            "u": health.user_id,
            "s": health.scope,
            "state": health.state.value,
            "f": health.failures,
            "due": t(health.next_due_at),
            "start": t(health.last_started_at),
            "ok": t(health.last_success_at),
            "errat": t(health.last_error_at),
            "code": health.last_error_code,
            "msg": health.last_error_message,
            "counts": json.dumps(health.last_counts, sort_keys=True)
            if health.last_counts is not None
            else None,
            "dis": t(health.disabled_at),
            "now": stamp(datetime.now(UTC)),
        },
    )


def record_tick(db: Database, at: datetime, holder: str, name: str = "timer") -> None:
    """The host's timer ticked at ``at``."""
    db.execute(
        """INSERT INTO timer_ticks (name, last_tick_at, holder) VALUES (:n, :t, :h)
           ON CONFLICT (name) DO UPDATE SET last_tick_at = excluded.last_tick_at, holder = excluded.holder""",
        {"n": name, "t": stamp(at), "h": holder},
    )


def last_tick(db: Database, name: str = "timer") -> datetime | None:
    """When the host's timer last ticked (``None``: never)."""
    rows = db.query("SELECT last_tick_at FROM timer_ticks WHERE name = :n", {"n": name})
    return _time(rows[0]["last_tick_at"]) if rows else None
