"""The sync service of one host: state, tokens and open connections, and a user's sync across item types.

One :class:`SyncService` lives as long as the plugin serves a host (its state database): it
keeps each user's exchangelib connection open between ticks (so a no-change run costs one
SyncFolderItems per folder, not a folder lookup too) and reopens it when the settings change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from erp_exchange_plugin.auth.tokens import TokenProvider
from erp_exchange_plugin.errors import ExchangeError
from erp_exchange_plugin.ews.account import Connection, connect
from erp_exchange_plugin.ews.retry import RetryPolicy
from erp_exchange_plugin.log import get_logger
from erp_exchange_plugin.plugin_types import ItemType
from erp_exchange_plugin.settings import ExchangeSettings
from erp_exchange_plugin.settings.item_types import ItemTypeSettings
from erp_exchange_plugin.state import StateStore
from erp_exchange_plugin.sync.engine import SyncJob, run_sync
from erp_exchange_plugin.sync.exchange import ExchangeFolder
from erp_exchange_plugin.sync.guard import DeleteGuard
from erp_exchange_plugin.sync.policy import ConflictPolicy
from erp_exchange_plugin.sync.report import RunReport
from erp_hookspecs import HostError, HostServices

log = get_logger(__name__)

PLUGIN_NAME = "exchange"


def window(item_type: ItemType, options: ItemTypeSettings, now: datetime) -> tuple[datetime, datetime] | None:
    """The sync window of an item type: the settings' days, else the item type's own default."""
    past, future = options.window_past_days, options.window_future_days
    default = item_type.default_window_days
    if past is None and future is None and default is None:
        return None
    past = past if past is not None else (default[0] if default else 3650)
    future = future if future is not None else (default[1] if default else 3650)
    return now - timedelta(days=past), now + timedelta(days=future)


class SyncService:
    """Runs users' syncs for one host.

    :param host: The host services.
    :param item_types: The item types to sync, by name.
    :param tokens: The token provider (default: one with a persisted cache in the state directory).
    :param guard: A deletion guard for every user (default: each user's settings decide).
    :param policy: A conflict policy for every item type (default: each user's settings decide).
    """

    def __init__(
        self,
        host: HostServices,
        item_types: Mapping[str, ItemType],
        *,
        tokens: TokenProvider | None = None,
        guard: DeleteGuard | None = None,
        policy: ConflictPolicy | None = None,
    ) -> None:
        self.host = host
        self.item_types = dict(item_types)
        location = host.state_location(PLUGIN_NAME)
        self.state = StateStore(location.database_url)
        self.tokens = tokens or TokenProvider(location.directory / "token-cache.json")
        self.guard = guard
        self.policy = policy
        self.sleep: Callable[[float], None] = time.sleep
        """How retries wait (tests replace it to keep time virtual)."""
        self._connections: dict[str, Connection] = {}
        self._lock = threading.Lock()

    def connection(self, settings: ExchangeSettings) -> Connection:
        """The open connection for ``settings``' user, reopened when the settings changed."""
        with self._lock:
            conn = self._connections.get(settings.user_id)
            if conn is not None and conn.settings == settings and not conn.closed:
                return conn
            if conn is not None:
                conn.close()
        conn = connect(settings, self.tokens)
        with self._lock:
            self._connections[settings.user_id] = conn
        return conn

    def forget(self, user_id: str) -> None:
        """Close and drop ``user_id``'s connection (after a failure, or when the user is disabled)."""
        with self._lock:
            conn = self._connections.pop(user_id, None)
        if conn is not None:
            conn.close()

    def sync_user(
        self,
        settings: ExchangeSettings,
        names: Iterable[str] | None = None,
        *,
        now: datetime | None = None,
        max_wait: float | None = None,
    ) -> list[RunReport]:
        """Sync ``settings``' user for each enabled item type (all by default), one after the other.

        :param max_wait: Seconds each item type's run may spend waiting for a busy server (the
            scheduler passes what is left of the tick's budget); the retry policy's default otherwise.

        :raises erp_exchange_plugin.errors.ExchangeError: the connection failed (reported by the caller).
        """
        now = now or datetime.now(UTC)
        wanted = [
            n
            for n in (names if names is not None else sorted(self.item_types))
            if settings.item_type(n).enabled
        ]
        if not wanted:
            return []
        conn = self.connection(settings)
        reports = []
        guard = self.guard or DeleteGuard(settings.delete_guard_max_share, settings.delete_guard_min_items)
        for name in wanted:
            item_type = self.item_types[name]
            options = settings.item_type(name)
            retry = RetryPolicy(sleep=self.sleep)
            if max_wait is not None:
                retry.max_total_wait = max(0.0, min(retry.max_total_wait, max_wait))
            try:
                records = self.host.records(item_type.erp_entity, settings.user_id)
            except HostError as exc:
                report = RunReport(user_id=settings.user_id, item_type=name)
                report.errors.append(f"the host cannot hold {name}: {exc}")
                reports.append(report)
                continue
            job = SyncJob(
                user_id=settings.user_id,
                item_type=item_type,
                records=records,
                state=self.state,
                folder=ExchangeFolder(
                    conn,
                    item_type.backends["ews"],  # type: ignore[arg-type]
                    retry,
                    send_invitations=options.send_invitations,
                ),
                policy=self.policy or options.conflict_policy,
                guard=guard,
                alerts=self.host.alerts,
                direction=options.direction,
                window=window(item_type, options, now),
            )
            try:
                reports.append(run_sync(job))
            except ExchangeError:
                self.forget(settings.user_id)
                raise
        return reports

    def close(self) -> None:
        """Close every connection and the state database."""
        with self._lock:
            conns, self._connections = list(self._connections.values()), {}
        for conn in conns:
            conn.close()
        self.state.close()
