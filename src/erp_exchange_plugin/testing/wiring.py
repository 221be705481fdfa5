"""Wire a stub host to an emulator: tenant settings that point the plugin at the local Exchange.

Used by the tests, the demo and plugin authors::

    host.set_tenant_settings("exchange", emulator_tenant_settings(emulator))
"""

from __future__ import annotations

from typing import Any, Protocol


class EmulatorLike(Protocol):
    """What the wiring reads from an emulator."""

    @property
    def base_url(self) -> str: ...
    @property
    def ews_url(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...
    @property
    def ca_file(self) -> str: ...


def emulator_tenant_settings(emulator: EmulatorLike, **extra: Any) -> dict[str, Any]:
    """The tenant's ``exchange`` section for an emulator: its Entra ID, its EWS endpoint, its CA."""
    return {
        "tenant_id": emulator.tenant_id,
        "client_id": emulator.client_id,
        "client_secret": emulator.client_secret,
        "authority_host": emulator.base_url,
        "ews_url": emulator.ews_url,
        "ca_file": emulator.ca_file,
        "server_version": "Exchange2016",
        **extra,
    }
