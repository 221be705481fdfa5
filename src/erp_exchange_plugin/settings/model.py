"""The effective settings of one user: what auth, ews and sync code read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from erp_exchange_plugin.secret import Secret
from erp_exchange_plugin.settings.catalogue import AuthMode
from erp_exchange_plugin.settings.item_types import ItemTypeSettings


@dataclass(frozen=True, slots=True)
class ExchangeSettings:
    """A user's resolved, valid Exchange settings (secrets stay :class:`Secret`)."""

    user_id: str
    enabled: bool
    auth_mode: AuthMode
    mailbox: str
    ews_url: str
    authority_host: str
    tenant_id: str | None
    client_id: str | None
    client_secret: Secret | None
    username: str | None
    password: Secret | None
    server_version: str | None
    ca_file: Path | None
    sync_interval: timedelta
    mail_interval: timedelta
    allow_http_loopback: bool
    item_types: tuple[tuple[str, ItemTypeSettings], ...] = ()
    delete_guard_max_share: float = 0.5
    delete_guard_min_items: int = 10
    disable_after_failures: int = 10

    def item_type(self, name: str) -> ItemTypeSettings:
        """The options of item type ``name`` (the defaults when the settings do not name it)."""
        return dict(self.item_types).get(name, ItemTypeSettings())

    @property
    def authority(self) -> str | None:
        """The msal authority URL (authority host + tenant), for ``oauth_app``."""
        if self.tenant_id is None:
            return None
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"
