"""Admin locks hold against user-level overrides through the whole flow (tick, mail under the
scheduler, status), and one user's settings never reach another user's mailbox or state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.state import StateStore
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def tick(host: StubHost, at: datetime) -> Any:
    (mine,) = [r for r in host.timer_tick(now=at, budget_seconds=60) if r.plugin == "exchange"]
    return mine


def test_locked_fields_hold_through_the_tick(tmp_path: Path, ews_emulator_clean: Emulator) -> None:
    emu = ews_emulator_clean
    tenant = emulator_tenant_settings(
        emu, locked_fields=["mailbox", "sync_interval_minutes", "client_id"], sync_interval_minutes=30
    )
    with StubHost(tmp_path / "erp", load_entry_points=["exchange"]) as host:
        host.set_tenant_settings(SECTION, tenant)
        host.add_user("anna", "Anna", "alice@example.com")
        # anna tries to reach bob's mailbox, sync every minute, and use another app
        host.set_user_settings(
            "anna",
            SECTION,
            {
                "mailbox": "bob@example.com",
                "sync_interval_minutes": 1,
                "tenant_id": emu.tenant_id,
                "client_id": "00000000-0000-0000-0000-000000000001",
                "client_secret": "mine",
            },
        )
        host.records("address", "anna").put(None, {"display_name": "Anna's"}, None)
        first = tick(host, NOW)
        assert "error" not in first.runs[0]
        assert tick(host, NOW + timedelta(minutes=2)).runs == ()  # the locked 30 minutes, not 1
        assert tick(host, NOW + timedelta(minutes=29)).runs == ()
        assert {r["user_id"] for r in tick(host, NOW + timedelta(minutes=30)).runs} == {"anna"}
        plugin = dict(host.plugin_manager.list_name_plugin())["exchange"]
        assert isinstance(plugin, ExchangePlugin)
        plugin.close()
    assert [v.fields["DisplayName"] for v in emu.items("alice@example.com", "contacts")] == ["Anna's"]
    assert emu.items("bob@example.com", "contacts") == []
    assert not [e for e in emu.request_log.entries() if e.mailbox == "bob@example.com"]


def test_one_users_failure_and_state_never_touch_another_user(
    tmp_path: Path, ews_emulator_clean: Emulator
) -> None:
    emu = ews_emulator_clean
    with StubHost(tmp_path / "erp", load_entry_points=["exchange"]) as host:
        host.set_tenant_settings(SECTION, emulator_tenant_settings(emu))
        host.add_user("anna", "Anna", "alice@example.com")
        host.add_user("ben", "Ben", "bob@example.com")
        host.records("address", "anna").put(None, {"display_name": "Anna's"}, None)
        host.records("address", "ben").put(None, {"display_name": "Ben's"}, None)
        emu.inject("http_503", mailbox="bob@example.com", count=None)
        plugin = dict(host.plugin_manager.list_name_plugin())["exchange"]
        assert isinstance(plugin, ExchangePlugin)
        plugin.service(host).sleep = lambda _s: None
        report = tick(host, NOW)
        plugin.close()
        store = StateStore(host.state_location("exchange").database_url)
        anna, ben = rows.get(store.db, "anna", "sync"), rows.get(store.db, "ben", "sync")
        pairs = {u: store.pair_count(u, "contacts") for u in ("anna", "ben")}
        store.close()
    assert {r["user_id"]: "error" in r for r in report.runs} == {"anna": False, "ben": True}
    assert (anna.state.value, ben.state.value) == ("ok", "backing_off")
    assert pairs == {"anna": 1, "ben": 0}
    assert [v.fields["DisplayName"] for v in emu.items("alice@example.com", "contacts")] == ["Anna's"]
    assert emu.items("bob@example.com", "contacts") == []
