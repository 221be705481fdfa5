"""One beat of the host's timer: pick the due users, sync them in parallel, within the budget.

- due: a user's sync interval has passed since their last sync started (never synced: due now);
  the longest-waiting users go first;
- bounded concurrency: at most ``max_workers`` users at once (threads; exchangelib is
  thread-safe per account, and each user has their own connection);
- budget: a user is not started once the tick's time budget is spent; they stay due and go first
  next tick. A running sync is never cut off mid-batch.
- a failure of one user is reported (and the connection dropped), never raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from erp_exchange_plugin.errors import ExchangeError
from erp_exchange_plugin.log import get_logger
from erp_exchange_plugin.settings import SECTION, ExchangeSettings
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.sync.service import SyncService
from erp_hookspecs import HostServices, TickReport

log = get_logger(__name__)
KIND = "sync"


@dataclass(frozen=True, slots=True)
class Due:
    """A user whose sync is due, and since when they waited."""

    settings: ExchangeSettings
    last_started: datetime | None


class Ticker:
    """Runs the due syncs of one host.

    :param service: The host's sync service.
    :param max_workers: Users synced at the same time.
    :param monotonic: The clock for the budget (tests pass a fake).
    """

    def __init__(
        self,
        host: HostServices,
        service: SyncService,
        *,
        max_workers: int = 4,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.service = service
        self.max_workers = max_workers
        self.monotonic = monotonic

    def due(self, now: datetime, errors: list[str]) -> list[Due]:
        """The users due at ``now``, longest waiting first; settings problems go to ``errors``."""
        found: list[Due] = []
        for user in self.host.users.with_feature(SECTION):
            resolution = resolve_user(self.host, user.user_id)
            if resolution.settings is None:
                fields = ", ".join(sorted({f"{e.level} {e.field}" for e in resolution.errors}))
                errors.append(f"{user.user_id}: settings invalid ({fields}); not synced")
                continue
            if not resolution.settings.enabled:
                continue
            last = self.service.state.last_started(user.user_id, KIND)
            if last is None or last + resolution.settings.sync_interval <= now:
                found.append(Due(resolution.settings, last))
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(found, key=lambda d: (d.last_started or epoch, d.settings.user_id))

    def tick(self, now: datetime, budget_seconds: float) -> TickReport:
        """Sync the due users; returns one run per user and item type."""
        started = datetime.now(UTC)
        deadline = self.monotonic() + budget_seconds
        errors: list[str] = []
        due = self.due(now, errors)
        runs: list[dict[str, Any]] = []

        def work(item: Due) -> list[dict[str, Any]]:
            user_id = item.settings.user_id
            if self.monotonic() >= deadline:
                return [{"user_id": user_id, "deferred": True, "why": "the tick's time budget was spent"}]
            state = self.service.state
            with state.transaction():
                state.record_start(user_id, KIND, now)
            try:
                reports = self.service.sync_user(item.settings)
            except ExchangeError as exc:
                with state.transaction():
                    state.record_finish(user_id, KIND, datetime.now(UTC), f"{exc.code}: {exc.message}")
                return [
                    {"user_id": user_id, "error": exc.message, "code": exc.code, "permanent": exc.permanent}
                ]
            failed = "; ".join(e for r in reports for e in r.errors) or None
            with state.transaction():
                state.record_finish(user_id, KIND, datetime.now(UTC), failed)
            return [r.as_dict() for r in reports]

        if due:
            with ThreadPoolExecutor(
                max_workers=min(self.max_workers, len(due)), thread_name_prefix="erp-sync"
            ) as pool:
                for result in pool.map(work, due):
                    runs.extend(result)
        for run in runs:
            if "error" in run:
                errors.append(f"{run['user_id']}: {run['error']}")
        log.info("tick done", due=len(due), runs=len(runs), errors=len(errors))
        return TickReport(
            plugin="exchange",
            started_at=started,
            finished_at=datetime.now(UTC),
            runs=tuple(runs),
            errors=tuple(errors),
        )
