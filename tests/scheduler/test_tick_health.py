"""The timer tick under failures: back-off, disable with one alert, enable again, and what it records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.scheduler import health
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.state import StateStore
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.state.health import SYNC, RunState
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.fixture
def emu(ews_emulator_clean: Emulator) -> Emulator:
    return ews_emulator_clean


@pytest.fixture
def host(tmp_path: Path, emu: Emulator) -> Iterator[StubHost]:
    with StubHost(tmp_path / "erp", load_entry_points=["exchange"]) as erp:
        erp.set_tenant_settings(SECTION, {**emulator_tenant_settings(emu), "disable_after_failures": 3})
        erp.add_user("anna", "Anna", "alice@example.com")
        erp.add_user("dora", "Dora", "nobody@example.com")
        yield erp
        plugin(erp).close()


def plugin(host: StubHost) -> ExchangePlugin:
    found = dict(host.plugin_manager.list_name_plugin())["exchange"]
    assert isinstance(found, ExchangePlugin)
    return found


def tick(host: StubHost, now: datetime) -> Any:
    (mine,) = [r for r in host.timer_tick(now=now, budget_seconds=60) if r.plugin == "exchange"]
    return mine


def state(host: StubHost, user_id: str) -> rows.Health:
    store = StateStore(host.state_location("exchange").database_url)
    try:
        return rows.get(store.db, user_id, SYNC)
    finally:
        store.close()


def test_a_permanent_error_disables_the_user_at_once_with_one_alert(host: StubHost) -> None:
    report = tick(host, NOW)
    (dora,) = [r for r in report.runs if r["user_id"] == "dora"]
    assert dora["permanent"]
    assert dora["state"] == "disabled"
    assert state(host, "dora").state is RunState.DISABLED
    assert state(host, "anna").state is RunState.OK
    for minutes in (10, 20, 30):
        later = tick(host, NOW + timedelta(minutes=minutes))
        assert "dora" not in {r["user_id"] for r in later.runs}
    (alert,) = host.raised_alerts(user_id="dora")
    assert alert.code == "exchange.sync.disabled"
    assert alert.for_admin
    assert "erp-exchange enable --user dora" in alert.message


def test_a_throttled_identity_platform_is_transient_not_a_wrong_secret(host: StubHost, emu: Emulator) -> None:
    host.set_user_features("dora", [])
    emu.inject("server_busy", operation="token", count=None)
    (run,) = tick(host, NOW).runs
    assert run["code"] == "auth.busy"
    assert run["state"] == "backing_off"
    assert not host.raised_alerts()
    assert state(host, "anna").next_due_at == NOW + timedelta(minutes=5)


def test_transient_errors_back_off_then_disable_and_enable_brings_the_user_back(
    host: StubHost, emu: Emulator
) -> None:
    host.set_user_features("dora", [])
    host.records("address", "anna").put(None, {"display_name": "Kept"}, None)
    waits: list[float] = []
    plugin(host).service(host).sleep = waits.append
    emu.inject("http_503", mailbox="alice@example.com", count=None, back_off_ms=1000)
    at = NOW
    first = tick(host, at)
    (run,) = first.runs
    assert run["state"] == "backing_off"
    assert run["code"] == "ews.throttled"
    assert 0 < sum(waits) <= 60  # the retries waited (virtually) within the tick's budget
    s = state(host, "anna")
    assert (s.state, s.failures, s.next_due_at) == (RunState.BACKING_OFF, 1, NOW + timedelta(minutes=5))
    assert tick(host, NOW + timedelta(minutes=4)).runs == ()  # still backing off
    tick(host, NOW + timedelta(minutes=5))
    assert state(host, "anna").next_due_at == NOW + timedelta(minutes=15)  # 5 + 2 * 5
    tick(host, NOW + timedelta(minutes=15))
    s = state(host, "anna")
    assert s.state is RunState.DISABLED
    assert s.failures == 3
    assert [a.code for a in host.raised_alerts(user_id="anna")] == ["exchange.sync.disabled"]
    emu.faults.clear()
    assert tick(host, NOW + timedelta(days=1)).runs == ()
    store = StateStore(host.state_location("exchange").database_url)
    health.enable(store.db, "anna")
    store.close()
    (run,) = [r for r in tick(host, NOW + timedelta(days=1)).runs if r["item_type"] == "contacts"]
    assert run["to_exchange"]["created"] == 1
    s = state(host, "anna")
    assert (s.state, s.failures, s.last_success_at) == (RunState.OK, 0, NOW + timedelta(days=1))
    assert s.last_counts is not None
    assert s.last_counts["contacts"]["to_exchange"]["created"] == 1
    assert [v.fields["DisplayName"] for v in emu.items("alice@example.com", "contacts")] == ["Kept"]
