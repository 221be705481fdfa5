"""The example plugin's tests use only erp_exchange_plugin.testing: its pytest plugin gives the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

ALICE = "alice@example.com"


@pytest.fixture
def emu(ews_emulator_clean: Emulator) -> Emulator:
    """The session's EWS emulator, reset for this test."""
    return ews_emulator_clean


@pytest.fixture
def erp(tmp_path: Path, emu: Emulator) -> Iterator[StubHost]:
    """A stub host that knows contact groups, with the Exchange plugin and user anna on alice's mailbox."""
    with StubHost(tmp_path / "erp", load_entry_points=["exchange"], extra_entities=["contact_group"]) as host:
        host.add_user("anna", "Anna", ALICE)
        host.set_tenant_settings("exchange", emulator_tenant_settings(emu))
        yield host
        exchange = dict(host.plugin_manager.list_name_plugin())["exchange"]
        exchange.close()  # type: ignore[attr-defined]
