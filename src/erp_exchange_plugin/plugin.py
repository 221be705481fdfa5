"""The host-hook implementations: the target of the entry point ``erp = exchange``.

Thin on purpose: each hook reads what it needs from the host services and delegates to the
package that does the work (settings/, scheduler/ and sync/, mail/).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from erp_exchange_plugin.errors import ConfigurationError
from erp_exchange_plugin.ews.account import Connection
from erp_exchange_plugin.log import get_logger
from erp_exchange_plugin.manager import ExtensionManager
from erp_exchange_plugin.scheduler.mail import fetch_scheduled
from erp_exchange_plugin.scheduler.tick import Ticker
from erp_exchange_plugin.settings import SECTION, AuthMode
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.sync.service import PLUGIN_NAME, SyncService
from erp_hookspecs import (
    FieldError,
    HostServices,
    Mailbox,
    MailFetchReport,
    SettingsResult,
    TickReport,
    hookimpl,
)

log = get_logger(__name__)


class ExchangePlugin:
    """The plugin object the host registers; it owns our extension manager."""

    def __init__(self, extensions: ExtensionManager | None = None) -> None:
        self._extensions = extensions
        self._services: dict[str, SyncService] = {}
        self._lock = threading.Lock()
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        """The mail scheduler's clock (``on_mail_fetch`` gets no time from the host; tests replace it)."""

    @property
    def extensions(self) -> ExtensionManager:
        """Our extension manager, loaded on first use."""
        if self._extensions is None:
            self._extensions = ExtensionManager()
        return self._extensions

    @hookimpl
    def on_user_settings_load(
        self, host: HostServices, user_id: str, proposed: Mapping[str, Mapping[str, Any]] | None
    ) -> SettingsResult:
        """Validate and resolve the user's ``exchange`` section (see the spec in erp_hookspecs)."""
        if host.users.get(user_id) is None:
            return SettingsResult(
                section=SECTION,
                user_id=user_id,
                errors=(FieldError("(user)", "user", f"the host has no user {user_id!r}"),),
            )
        mine = proposed.get(SECTION) if proposed is not None else None
        resolution = resolve_user(host, user_id, mine)
        if resolution.errors:
            log.info(
                "settings invalid",
                user_id=user_id,
                proposed=mine is not None,
                fields=sorted({e.field for e in resolution.errors}),
            )
        return resolution.to_result()

    def service(self, host: HostServices) -> SyncService:
        """The sync service of ``host`` (one per state database, kept between ticks)."""
        key = host.state_location(PLUGIN_NAME).database_url
        with self._lock:
            service = self._services.get(key)
            if service is None:
                service = SyncService(host, self.extensions.item_types)
                self._services[key] = service
            return service

    def close(self) -> None:
        """Close every host's connections and state (a host calls it on shutdown; tests too)."""
        with self._lock:
            services, self._services = list(self._services.values()), {}
        for service in services:
            service.close()

    @hookimpl
    def on_mail_fetch(self, host: HostServices, mailbox: Mailbox) -> MailFetchReport | None:
        """Fetch one mailbox if we provide its protocol, under its lease and back-off (scheduler/mail.py)."""
        if mailbox.protocol not in self.extensions.mail_providers:
            return None
        return fetch_scheduled(
            host,
            mailbox,
            self.extensions.mail_providers,
            self.service(host).state.db,
            now=self.clock(),
            tokens=self._xoauth2_tokens(host),
            exchange=lambda box: self._exchange_connection(host, box),
        )

    def _exchange_connection(self, host: HostServices, mailbox: Mailbox) -> Connection:
        """The EWS connection of ``mailbox``'s user (for ``ews`` mailboxes)."""
        resolution = resolve_user(host, mailbox.user_id)
        if resolution.settings is None:
            fields = ", ".join(sorted({f"{e.level} {e.field}" for e in resolution.errors}))
            raise ConfigurationError(f"user {mailbox.user_id!r}: Exchange settings invalid ({fields})")
        return self.service(host).connection(resolution.settings)

    def _xoauth2_tokens(self, host: HostServices) -> Callable[[Mailbox], Callable[[], str] | None]:
        """XOAUTH2 tokens for a mailbox: the app token of its user's ``oauth_app`` Exchange settings."""

        def for_mailbox(mailbox: Mailbox) -> Callable[[], str] | None:
            settings = resolve_user(host, mailbox.user_id).settings
            if settings is None or settings.auth_mode is not AuthMode.OAUTH_APP:
                return None
            tokens = self.service(host).tokens
            return lambda: tokens.acquire(settings).access_token.reveal()

        return for_mailbox

    @hookimpl
    def on_timer_tick(self, host: HostServices, now: datetime, budget_seconds: float) -> TickReport:
        """Sync the users that are due (see the spec in erp_hookspecs)."""
        return Ticker(host, self.service(host)).tick(now, budget_seconds)


plugin = ExchangePlugin()
"""The instance the entry point names."""
