"""on_timer_tick end to end: the stub host's timer drives the plugin (from its entry point) against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.fixture
def host(tmp_path: Path, emu: Emulator) -> Iterator[StubHost]:
    with StubHost(tmp_path / "erp", load_entry_points=["exchange"]) as erp:
        erp.set_tenant_settings(SECTION, emulator_tenant_settings(emu))
        erp.add_user("anna", "Anna", "alice@example.com")
        erp.add_user("ben", "Ben", "bob@example.com")
        erp.add_user("carl", "Carl", "carl@gmail.example")
        erp.set_user_settings("carl", SECTION, {"ews_url": "http://plain.example/EWS/Exchange.asmx"})
        erp.set_user_settings("ben", SECTION, {"sync_interval_minutes": 30})
        yield erp
        plugin = dict(erp.plugin_manager.list_name_plugin())["exchange"]
        assert isinstance(plugin, ExchangePlugin)
        plugin.close()


def exchange_report(reports: list[object]) -> object:
    (mine,) = [r for r in reports if getattr(r, "plugin", None) == "exchange"]
    return mine


def test_hook_on_timer_tick_syncs_every_due_user_and_reports_per_item_type(
    host: StubHost, emu: Emulator
) -> None:
    host.records("address", "anna").put(None, {"display_name": "Anna's customer"}, None)
    host.records("address", "ben").put(None, {"display_name": "Ben's supplier"}, None)
    emu.create_item("bob@example.com", "contacts", {"DisplayName": "Ben's Outlook contact"})
    report = exchange_report(host.timer_tick(now=NOW, budget_seconds=60))
    runs = {(r["user_id"], r["item_type"]): r for r in report.runs}  # type: ignore[attr-defined]
    assert set(runs) == {(u, t) for u in ("anna", "ben") for t in ("calendar", "contacts", "tasks")}
    assert runs[("anna", "contacts")]["to_exchange"]["created"] == 1
    assert runs[("ben", "contacts")]["to_erp"]["created"] == 1
    assert any(e.startswith("carl: settings invalid") for e in report.errors)  # type: ignore[attr-defined]
    assert [v.fields["DisplayName"] for v in emu.items("alice@example.com", "contacts")] == [
        "Anna's customer"
    ]


def test_hook_on_timer_tick_respects_each_users_interval(host: StubHost, emu: Emulator) -> None:
    exchange_report(host.timer_tick(now=NOW, budget_seconds=60))
    again = exchange_report(host.timer_tick(now=NOW + timedelta(minutes=1), budget_seconds=60))
    assert again.runs == ()  # type: ignore[attr-defined]
    later = exchange_report(host.timer_tick(now=NOW + timedelta(minutes=6), budget_seconds=60))
    assert {r["user_id"] for r in later.runs} == {"anna"}  # type: ignore[attr-defined]
    much_later = exchange_report(host.timer_tick(now=NOW + timedelta(minutes=31), budget_seconds=60))
    assert {r["user_id"] for r in much_later.runs} == {"anna", "ben"}  # type: ignore[attr-defined]


def test_hook_on_timer_tick_with_no_budget_defers_everyone(host: StubHost) -> None:
    report = exchange_report(host.timer_tick(now=NOW, budget_seconds=0))
    assert {r["user_id"] for r in report.runs} == {"anna", "ben"}  # type: ignore[attr-defined]
    assert all(r.get("deferred") for r in report.runs)  # type: ignore[attr-defined]
    later = exchange_report(host.timer_tick(now=NOW + timedelta(seconds=10), budget_seconds=60))
    assert {r["user_id"] for r in later.runs if not r.get("deferred")} == {"anna", "ben"}  # type: ignore[attr-defined]
