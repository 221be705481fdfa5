"""Leases: which process works on a user's sync or a mailbox's fetch right now.

A lease is one row (resource, holder, expiry). It is taken inside ``BEGIN IMMEDIATE`` (the
database's write lock) by one conditional statement: an ``UPDATE`` that only succeeds when the
row has expired or is already ours, else an ``INSERT`` that only succeeds when there is no row.
So two processes on one state database can never both hold one resource, and a holder that
crashed blocks the resource only until its expiry. A long run renews its lease; a renewal fails
(returns ``False``) once someone else has taken the resource after an expiry.

Times are wall-clock UTC, written with microseconds so that the text compares in time order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from erp_exchange_plugin.state.database import Database


def stamp(at: datetime) -> str:
    """``at`` as sortable ISO-8601 text in UTC (always with microseconds)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def take(db: Database, resource: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Take ``resource`` for ``holder`` until ``now + ttl``; ``False`` when another holder has it."""
    params = {"r": resource, "h": holder, "now": stamp(now), "exp": stamp(now + ttl)}
    with db.transaction():
        changed = db.execute(
            """UPDATE leases SET holder = :h, taken_at = :now, expires_at = :exp
               WHERE resource = :r AND (expires_at <= :now OR holder = :h)""",
            params,
        )
        if changed:
            return True
        inserted = db.execute(
            """INSERT INTO leases (resource, holder, taken_at, expires_at) VALUES (:r, :h, :now, :exp)
               ON CONFLICT (resource) DO NOTHING""",
            params,
        )
        return inserted == 1


def renew(db: Database, resource: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Extend ``holder``'s lease; ``False`` when it is no longer theirs."""
    with db.transaction():
        return (
            db.execute(
                "UPDATE leases SET expires_at = :exp WHERE resource = :r AND holder = :h",
                {"r": resource, "h": holder, "exp": stamp(now + ttl)},
            )
            == 1
        )


def release(db: Database, resource: str, holder: str) -> None:
    """Give the lease back (only if it is still ``holder``'s)."""
    with db.transaction():
        db.execute("DELETE FROM leases WHERE resource = :r AND holder = :h", {"r": resource, "h": holder})


def holder_of(db: Database, resource: str, now: datetime) -> str | None:
    """Who holds ``resource`` at ``now`` (``None``: free or expired)."""
    rows = db.query(
        "SELECT holder FROM leases WHERE resource = :r AND expires_at > :now",
        {"r": resource, "now": stamp(now)},
    )
    return str(rows[0]["holder"]) if rows else None
