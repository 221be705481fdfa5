"""``erp-exchange status``: every user's scheduler state, and whether the host's timer still ticks.

:func:`collect` reads the run health rows (:mod:`erp_exchange_plugin.state.health`) of one host's
state database and the users who have the feature; :func:`timer_warning` is the sentence that
``status`` and ``erp-exchange check`` print when no tick came for more than twice the sync
interval (sync depends on the host's timer service). A host shows the same in its own admin
screens by calling :func:`collect` with its host services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.settings.catalogue import BY_NAME
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.state.database import Database
from erp_exchange_plugin.state.health import SYNC, Health
from erp_hookspecs import HostServices

DEFAULT_INTERVAL = timedelta(minutes=int(BY_NAME["sync_interval_minutes"].default))  # type: ignore[call-overload]


@dataclass
class UserStatus:
    """One user: whether their settings work, and the health of each scope (sync, mailboxes)."""

    user_id: str
    settings_ok: bool
    scopes: list[Health] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "user_id": self.user_id,
            "settings_ok": self.settings_ok,
            "scopes": [h.as_dict() for h in self.scopes],
        }


@dataclass
class Status:
    """The whole picture at ``now``."""

    now: datetime
    last_tick: datetime | None
    interval: timedelta
    users: list[UserStatus] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "now": self.now.isoformat(),
            "last_tick": self.last_tick.isoformat() if self.last_tick else None,
            "interval_minutes": self.interval.total_seconds() / 60,
            "warnings": self.warnings,
            "users": [u.as_dict() for u in self.users],
        }


def timer_warning(last_tick: datetime | None, interval: timedelta, now: datetime) -> str | None:
    """The warning when the host's timer has not ticked for more than ``2 * interval``."""
    if last_tick is None:
        return (
            "the host's timer has never ticked for this plugin: sync needs the host's timer service "
            "(on_timer_tick) to run"
        )
    if now - last_tick > 2 * interval:
        minutes = int((now - last_tick).total_seconds() // 60)
        return (
            f"no timer tick since {last_tick:%Y-%m-%d %H:%M} UTC ({minutes} min, more than twice the "
            f"{int(interval.total_seconds() // 60)} min interval): is the host's timer service running?"
        )
    return None


def collect(host: HostServices, db: Database, now: datetime) -> Status:
    """Every user with the feature (and any user the state still knows), their scopes, the timer."""
    by_user: dict[str, UserStatus] = {}
    intervals: list[timedelta] = []
    for user in host.users.with_feature(SECTION):
        settings = resolve_user(host, user.user_id).settings
        if settings is not None:
            intervals.append(settings.sync_interval)
        by_user[user.user_id] = UserStatus(user.user_id, settings is not None)
    for health in rows.all_health(db):
        by_user.setdefault(health.user_id, UserStatus(health.user_id, False)).scopes.append(health)
    for user_status in by_user.values():
        if user_status.settings_ok and not any(h.scope == SYNC for h in user_status.scopes):
            user_status.scopes.insert(0, Health(user_status.user_id, SYNC))  # never run yet: due now
    interval = min(intervals, default=DEFAULT_INTERVAL)
    last = rows.last_tick(db)
    status = Status(now, last, interval, sorted(by_user.values(), key=lambda u: u.user_id))
    warning = timer_warning(last, interval, now)
    if warning:
        status.warnings.append(warning)
    return status


def _when(value: datetime | None, empty: str = "-") -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else empty


def _counts(health: Health) -> str:
    counts = health.last_counts or {}
    if health.scope != SYNC:
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"
    parts = []
    for name, c in sorted(counts.items()):
        ex, erp = c.get("to_exchange", {}), c.get("to_erp", {})
        parts.append(
            f"{name}: ex +{ex.get('created', 0)} ~{ex.get('updated', 0)} -{ex.get('deleted', 0)}, "
            f"erp +{erp.get('created', 0)} ~{erp.get('updated', 0)} -{erp.get('deleted', 0)}"
        )
    return "; ".join(parts) or "-"


def print_status(status: Status, out: TextIO) -> None:
    """Readable status."""
    out.write(f"Last timer tick: {_when(status.last_tick, 'never')} UTC (now {_when(status.now)} UTC)\n")
    for warning in status.warnings:
        out.write(f"WARNING: {warning}\n")
    if not status.users:
        out.write("No user has the Exchange feature.\n")
    for user in status.users:
        out.write(f"{user.user_id}{'' if user.settings_ok else '  (settings invalid: not synced)'}\n")
        for h in user.scopes:
            due = "never (disabled)" if h.state.value == "disabled" else _when(h.next_due_at, "now")
            out.write(
                f"  {h.scope:<16} {h.state.value:<11} last success {_when(h.last_success_at)}  next due {due}\n"
            )
            if h.failures:
                out.write(f"  {'':<16} {h.failures} failure(s) in a row\n")
            if h.last_error_code:
                out.write(
                    f"  {'':<16} last error {_when(h.last_error_at)}: {h.last_error_code}: {h.last_error_message}\n"
                )
            out.write(f"  {'':<16} last run: {_counts(h)}\n")
