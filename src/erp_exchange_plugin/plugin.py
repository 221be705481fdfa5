"""The host-hook implementations: the target of the entry point ``erp = exchange``.

Thin on purpose: each hook reads what it needs from the host services and delegates to the
package that does the work (settings/, and later sync/, mail/, scheduler/).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erp_exchange_plugin.log import get_logger
from erp_exchange_plugin.manager import ExtensionManager
from erp_exchange_plugin.settings import SECTION, Resolution, resolve
from erp_hookspecs import FieldError, HostServices, SettingsResult, hookimpl

log = get_logger(__name__)


def resolve_user(host: HostServices, user_id: str, proposed: Mapping[str, Any] | None = None) -> Resolution:
    """Resolve ``user_id``'s settings from the host (or from ``proposed``: our section's new values)."""
    user = host.users.get(user_id)
    tenant_raw = host.settings.tenant_section(SECTION)
    user_raw = proposed if proposed is not None else host.settings.user_section(user_id, SECTION)
    return resolve(
        user_id,
        user_raw,
        tenant_raw,
        host_email=user.email if user is not None else None,
        proposed=proposed is not None,
    )


class ExchangePlugin:
    """The plugin object the host registers; it owns our extension manager."""

    def __init__(self, extensions: ExtensionManager | None = None) -> None:
        self._extensions = extensions

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


plugin = ExchangePlugin()
"""The instance the entry point names."""
