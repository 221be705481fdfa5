"""One beat of the host's timer: pick the due users, sync them in parallel, within the budget.

- due: the user's scope ``sync`` is not disabled and its next due time has come (never run: due
  now); the next due time is one ``sync_interval_minutes`` after a success, or the back-off after
  a failure (:mod:`.health`); the users due the longest go first;
- lease: a user is synced only under their lease in the state database (:mod:`.leases`), so
  overlapping ticks and several host processes on one state database never sync one mailbox at
  once; a user whose lease is taken is skipped (still due next tick), and after taking it the
  user's due time is read again (another process may just have synced them);
- bounded concurrency: at most ``max_workers`` users at once (threads; each user has their own
  connection);
- budget: a user is not started once the tick's time budget is spent; they stay due and go first
  next tick. A running sync is never cut off mid-batch;
- a failure of one user is recorded (back-off or disable, :mod:`.health`) and reported, never raised.

Every tick records its time (``erp-exchange status`` warns when the timer stops).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from erp_exchange_plugin.errors import ExchangeError
from erp_exchange_plugin.log import get_logger
from erp_exchange_plugin.scheduler import health
from erp_exchange_plugin.scheduler.leases import DEFAULT_TTL, acquire, new_holder
from erp_exchange_plugin.settings import SECTION, ExchangeSettings
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.state.health import SYNC
from erp_exchange_plugin.sync.report import RunReport
from erp_exchange_plugin.sync.service import SyncService
from erp_hookspecs import HostServices, TickReport

log = get_logger(__name__)
KIND = SYNC


@dataclass(frozen=True, slots=True)
class Due:
    """A user whose sync is due, and since when."""

    settings: ExchangeSettings
    due_since: datetime | None


def counts(reports: list[RunReport]) -> dict[str, Any]:
    """The counts of one user's run, per item type (what ``status`` shows)."""
    return {
        r.item_type: {
            "to_exchange": vars(r.to_exchange).copy(),
            "to_erp": vars(r.to_erp).copy(),
            "conflicts": len(r.conflicts),
            "errors": len(r.errors),
            "stopped": r.stopped,
        }
        for r in reports
    }


class Ticker:
    """Runs the due syncs of one host.

    :param service: The host's sync service.
    :param max_workers: Users synced at the same time.
    :param monotonic: The clock for the budget (tests pass a fake).
    :param lease_ttl: How long a lease lives without renewal.
    """

    def __init__(
        self,
        host: HostServices,
        service: SyncService,
        *,
        max_workers: int = 4,
        monotonic: Callable[[], float] = time.monotonic,
        lease_ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self.host = host
        self.service = service
        self.max_workers = max_workers
        self.monotonic = monotonic
        self.lease_ttl = lease_ttl

    def due(self, now: datetime, errors: list[str]) -> list[Due]:
        """The users due at ``now``, longest due first; settings problems go to ``errors``."""
        db = self.service.state.db
        found: list[Due] = []
        for user in self.host.users.with_feature(SECTION):
            resolution = resolve_user(self.host, user.user_id)
            if resolution.settings is None:
                fields = ", ".join(sorted({f"{e.level} {e.field}" for e in resolution.errors}))
                errors.append(f"{user.user_id}: settings invalid ({fields}); not synced")
                continue
            if not resolution.settings.enabled:
                continue
            state = rows.get(db, user.user_id, SYNC)
            if health.is_due(state, now):
                found.append(Due(resolution.settings, state.next_due_at))
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(found, key=lambda d: (d.due_since or epoch, d.settings.user_id))

    def _run(self, item: Due, now: datetime, deadline: float) -> list[dict[str, Any]]:
        settings = item.settings
        user_id = settings.user_id
        db = self.service.state.db
        lease = acquire(db, f"sync:{user_id}", ttl=self.lease_ttl)
        if lease is None:
            return [{"user_id": user_id, "skipped": True, "why": "another run holds this user's lease"}]
        with lease:
            if not health.is_due(rows.get(db, user_id, SYNC), now):
                return [{"user_id": user_id, "skipped": True, "why": "synced meanwhile by another run"}]
            health.started(db, user_id, SYNC, now)
            try:
                reports = self.service.sync_user(settings, max_wait=deadline - self.monotonic())
            except Exception as exc:  # recorded and reported; one user never stops the tick
                if not isinstance(exc, ExchangeError):
                    log.error("sync failed unexpectedly", user_id=user_id, error=type(exc).__name__)
                    self.service.forget(user_id)
                after = health.failed(
                    db,
                    self.host.alerts,
                    user_id,
                    SYNC,
                    now,
                    settings.sync_interval,
                    exc,
                    settings.disable_after_failures,
                )
                return [
                    {
                        "user_id": user_id,
                        "error": after.last_error_message,
                        "code": after.last_error_code,
                        "permanent": isinstance(exc, ExchangeError) and exc.permanent,
                        "state": after.state.value,
                    }
                ]
            problems = [e for r in reports for e in r.errors] + [r.stopped for r in reports if r.stopped]
            health.succeeded(
                db,
                user_id,
                SYNC,
                now,
                settings.sync_interval,
                counts(reports),
                ("sync.partial", "; ".join(problems)) if problems else None,
            )
            return [r.as_dict() for r in reports]

    def tick(self, now: datetime, budget_seconds: float) -> TickReport:
        """Sync the due users; returns one run per user and item type."""
        started = datetime.now(UTC)
        deadline = self.monotonic() + budget_seconds
        db = self.service.state.db
        with db.transaction():
            rows.record_tick(db, now, new_holder())
        errors: list[str] = []
        due = self.due(now, errors)
        runs: list[dict[str, Any]] = []

        def work(item: Due) -> list[dict[str, Any]]:
            if self.monotonic() >= deadline:
                return [
                    {
                        "user_id": item.settings.user_id,
                        "deferred": True,
                        "why": "the tick's time budget was spent",
                    }
                ]
            return self._run(item, now, deadline)

        if due:
            with ThreadPoolExecutor(
                max_workers=min(self.max_workers, len(due)), thread_name_prefix="erp-sync"
            ) as pool:
                for result in pool.map(work, due):
                    runs.extend(result)
        for run in runs:
            if "error" in run:
                errors.append(f"{run['user_id']}: {run['code']}: {run['error']}")
        log.info("tick done", due=len(due), runs=len(runs), errors=len(errors))
        return TickReport(
            plugin="exchange",
            started_at=started,
            finished_at=datetime.now(UTC),
            runs=tuple(runs),
            errors=tuple(errors),
        )
