"""Fixtures for tests against the emulator and the stub host together."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from erp_exchange_plugin.item_types import contacts
from erp_exchange_plugin.settings import SECTION, ExchangeSettings
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.sync.report import RunReport
from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

ALICE = "alice@example.com"


@pytest.fixture
def emu(ews_emulator_clean: Emulator) -> Emulator:
    """The session emulator, reset."""
    return ews_emulator_clean


@pytest.fixture
def erp(tmp_path: Path, emu: Emulator) -> Iterator[StubHost]:
    """A stub host with the plugin (from its entry point) and user anna on alice's mailbox."""
    with StubHost(tmp_path / "erp", load_entry_points=["exchange"]) as host:
        host.add_user("anna", "Anna Müller", ALICE)
        host.set_tenant_settings(SECTION, emulator_tenant_settings(emu))
        yield host


@pytest.fixture
def anna(erp: StubHost) -> ExchangeSettings:
    """Anna's resolved settings."""
    resolution = resolve_user(erp, "anna")
    assert resolution.settings is not None, resolution.errors
    return resolution.settings


@pytest.fixture
def service(erp: StubHost) -> Iterator[SyncService]:
    """A sync service for the contacts item type."""
    svc = SyncService(erp, {"contacts": contacts.item_type()})
    yield svc
    svc.close()


@pytest.fixture
def sync(service: SyncService, anna: ExchangeSettings) -> Callable[[], RunReport]:
    """Run one contacts sync for anna."""

    def run() -> RunReport:
        (report,) = service.sync_user(anna, ["contacts"])
        return report

    return run
