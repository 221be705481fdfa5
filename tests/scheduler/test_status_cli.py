"""``erp-exchange status`` and ``enable`` on a stub host's directory, and the stale-timer warning in ``check``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from erp_exchange_plugin.cli import main
from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.scheduler.status import timer_warning
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.fixture
def host(tmp_path: Path, ews_emulator_clean: Emulator) -> Iterator[StubHost]:
    with StubHost(tmp_path / "erp", load_entry_points=["exchange"]) as erp:
        erp.set_tenant_settings(SECTION, emulator_tenant_settings(ews_emulator_clean))
        erp.add_user("anna", "Anna", "alice@example.com")
        erp.add_user("dora", "Dora", "nobody@example.com")
        erp.records("address", "anna").put(None, {"display_name": "One"}, None)
        yield erp
        plugin = dict(erp.plugin_manager.list_name_plugin())["exchange"]
        assert isinstance(plugin, ExchangePlugin)
        plugin.close()


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def status(host: StubHost, now: datetime) -> dict[str, Any]:
    code, text = cli("status", "--host-dir", str(host.directory), "--json", "--now", now.isoformat())
    assert code == 0
    data: dict[str, Any] = json.loads(text)
    return data


def test_status_shows_every_user_their_state_error_counts_and_the_last_tick(host: StubHost) -> None:
    before = status(host, NOW)
    assert before["last_tick"] is None
    assert "never ticked" in before["warnings"][0]
    host.timer_tick(now=NOW)
    data = status(host, NOW + timedelta(minutes=1))
    assert data["last_tick"] == NOW.isoformat()
    assert data["warnings"] == []
    users = {u["user_id"]: u["scopes"][0] for u in data["users"]}
    assert users["anna"]["state"] == "ok"
    assert users["anna"]["last_success_at"] == NOW.isoformat()
    assert users["anna"]["next_due_at"] == (NOW + timedelta(minutes=5)).isoformat()
    assert users["anna"]["last_counts"]["contacts"]["to_exchange"]["created"] == 1
    assert users["dora"]["state"] == "disabled"
    assert users["dora"]["last_error_code"] == "ews.mailbox_not_found"
    assert users["dora"]["next_due_at"] is None
    _, text = cli(
        "status", "--host-dir", str(host.directory), "--now", (NOW + timedelta(minutes=1)).isoformat()
    )
    assert "anna" in text
    assert "disabled" in text
    assert "ews.mailbox_not_found" in text
    assert "contacts: ex +1" in text


def test_status_and_check_warn_when_the_timer_stopped(host: StubHost) -> None:
    host.timer_tick(now=NOW)
    assert status(host, NOW + timedelta(minutes=10))["warnings"] == []
    (warning,) = status(host, NOW + timedelta(minutes=11))["warnings"]
    assert "more than twice the 5 min interval" in warning
    code, text = cli("check", "--host-dir", str(host.directory), "--user", "anna")
    assert code == 0, text
    assert "WARNING" not in text  # check judges by the real clock: the last tick (08:00) is recent
    host.timer_tick(now=datetime.now(UTC) - timedelta(hours=1))
    code, text = cli("check", "--host-dir", str(host.directory), "--user", "anna")
    assert code == 0, text
    assert "WARNING: no timer tick since" in text


def test_timer_warning_edges() -> None:
    assert timer_warning(NOW, timedelta(minutes=5), NOW + timedelta(minutes=10)) is None
    assert timer_warning(NOW, timedelta(minutes=5), NOW + timedelta(minutes=10, seconds=1)) is not None


def test_enable_brings_a_disabled_user_back(host: StubHost) -> None:
    host.timer_tick(now=NOW)
    assert host.hook_calls("on_timer_tick")
    code, text = cli("enable", "--host-dir", str(host.directory), "--user", "dora")
    assert code == 0
    assert text == "dora sync: enabled, due now\n"
    dora = {u["user_id"]: u for u in status(host, NOW)["users"]}["dora"]["scopes"][0]
    assert dora["state"] == "ok"
    assert dora["failures"] == 0
    (report,) = [r for r in host.timer_tick(now=NOW + timedelta(minutes=1)) if r.plugin == "exchange"]
    assert [r["user_id"] for r in report.runs] == ["dora"]  # tried again at once (and disabled again)
    assert len(host.raised_alerts(user_id="dora")) == 2
    with pytest.raises(SystemExit, match="no user 'zed'"):
        cli("enable", "--host-dir", str(host.directory), "--user", "zed")
