"""The fault matrix: every fault, for every item type, through the timer tick, loses nothing and doubles nothing.

Each case: a first tick syncs both sides; then edits on both sides (new records, new Outlook items,
an edit each); then the fault is injected and the next tick runs into it; the user's status must
say what happened (still ``ok`` when our retries absorbed it, else ``backing_off`` with the
error's code); then the fault is gone, the back-off passes, and the next ticks converge: every
contact exactly once on each side, the edits on both sides.

Adding an item type (calendar, tasks) is one :class:`ItemCase` line in ``ITEM_CASES``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from exchangelib.protocol import BaseProtocol

from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.state import StateStore
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.state.health import SYNC, Health
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

ALICE = "alice@example.com"
T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ItemCase:
    """An item type as the matrix needs it: where it lives on both sides and how a name is written."""

    name: str
    entity: str
    folder: str
    erp_name: str
    ex_name: str
    erp_extra: dict[str, Any] = field(default_factory=dict)
    ex_extra: dict[str, Any] = field(default_factory=dict)

    def erp_fields(self, name: str) -> dict[str, Any]:
        return {self.erp_name: name, **self.erp_extra}

    def ex_fields(self, name: str) -> dict[str, Any]:
        return {self.ex_name: name, **self.ex_extra}


SOON = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)


ITEM_CASES = [
    ItemCase("contacts", "address", "contacts", "display_name", "DisplayName"),
    ItemCase(
        "calendar",
        "appointment",
        "calendar",
        "subject",
        "Subject",
        {"timezone": "UTC", "start": SOON, "end": SOON + timedelta(hours=1)},
        {"Start": SOON, "End": SOON + timedelta(hours=1)},
    ),
    ItemCase("tasks", "task", "tasks", "subject", "Subject"),
]


@dataclass(frozen=True)
class Fault:
    """One fault: how to cause it, and what the user's status says after the tick that met it."""

    name: str
    cause: Callable[[Emulator, ItemCase], None]
    state: str  # "ok": our retries absorbed it; "backing_off": the run failed and will be retried
    code: str | None = None
    resync: bool = False  # the tick that met it matched everything again (invalid sync state)
    status: int | None = None  # an HTTP status the emulator must have answered


def inject(kind: str, **kw: Any) -> Callable[[Emulator, ItemCase], None]:
    return lambda emu, _case: emu.inject(kind, mailbox=ALICE, **kw) and None


FAULTS = [
    Fault(
        "throttling_storm",
        inject("server_busy", count=None, back_off_ms=2000),
        "backing_off",
        "ews.throttled",
    ),
    Fault("throttled_twice", inject("server_busy", count=2, back_off_ms=500), "ok"),
    Fault("http_500", inject("http_500", count=None), "backing_off", "ews.throttled"),
    Fault("http_503", inject("http_503", count=None), "backing_off", "ews.throttled"),
    Fault(
        "drop_before_write", inject("drop_before", operation="CreateItem"), "backing_off", "net.unreachable"
    ),
    Fault("drop_after_write", inject("drop_after", operation="CreateItem"), "backing_off", "net.unreachable"),
    Fault(
        "malformed_xml", inject("malformed_xml", operation="CreateItem"), "backing_off", "ews.server_error"
    ),
    Fault(
        "truncated_sync_page",
        inject("truncated_xml", operation="SyncFolderItems"),
        "ok",  # detected as truncated (not parsed as a shorter page), and retried: it is a read
    ),
    Fault(
        "truncated_after_write",
        inject("truncated_xml", operation="CreateItem"),
        "backing_off",
        "ews.server_error",
    ),
    Fault(
        "slow_past_timeout",
        inject("slow", operation="CreateItem", delay_ms=1500),
        "backing_off",
        "net.unreachable",
    ),
    Fault("401_mid_run", lambda emu, _case: emu.revoke_tokens(), "ok", status=401),
    Fault(
        "invalid_sync_state",
        lambda emu, case: emu.invalidate_sync_state(ALICE, case.folder),
        "ok",
        resync=True,
    ),
]


@pytest.fixture
def host(tmp_path: Path, ews_emulator_clean: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubHost]:
    monkeypatch.setattr(BaseProtocol, "TIMEOUT", 1)  # the slow server's 1.5 s are past it
    with StubHost(tmp_path / "erp", load_entry_points=["exchange"]) as erp:
        erp.set_tenant_settings(SECTION, emulator_tenant_settings(ews_emulator_clean))
        erp.add_user("anna", "Anna", ALICE)
        plugin = dict(erp.plugin_manager.list_name_plugin())["exchange"]
        assert isinstance(plugin, ExchangePlugin)
        plugin.service(erp).sleep = lambda _s: None  # retries wait in virtual time
        yield erp
        plugin.close()


def tick(host: StubHost, at: datetime) -> Any:
    (mine,) = [r for r in host.timer_tick(now=at, budget_seconds=60) if r.plugin == "exchange"]
    return mine


def status(host: StubHost) -> Health:
    store = StateStore(host.state_location("exchange").database_url)
    try:
        return rows.get(store.db, "anna", SYNC)
    finally:
        store.close()


def both_sides(host: StubHost, emu: Emulator, case: ItemCase) -> tuple[Counter[str], Counter[str]]:
    page = host.records(case.entity, "anna").changes_since(None, 10_000)
    erp = Counter(str(c.record.fields[case.erp_name]) for c in page.changes if c.record is not None)
    ex = Counter(str(v.fields.get(case.ex_name)) for v in emu.items(ALICE, case.folder))
    return erp, ex


@pytest.mark.parametrize("case", ITEM_CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault_loses_nothing_doubles_nothing_and_status_tells(
    host: StubHost, ews_emulator_clean: Emulator, case: ItemCase, fault: Fault
) -> None:
    emu = ews_emulator_clean
    erp = host.records(case.entity, "anna")
    for i in range(3):
        erp.put(None, case.erp_fields(f"erp {i}"), None)
    for i in range(2):
        emu.create_item(ALICE, case.folder, case.ex_fields(f"outlook {i}"))
    assert "error" not in tick(host, T0).runs[0]

    # edits on both sides, then the fault meets the next tick
    for i in range(3, 5):
        erp.put(None, case.erp_fields(f"erp {i}"), None)
    emu.create_item(ALICE, case.folder, case.ex_fields("outlook 2"))
    first = next(c.record for c in erp.changes_since(None, 100).changes if c.record is not None)
    erp.put(first.record_id, {**first.fields, case.erp_name: "erp 0 edited"}, first.version)
    item = next(v for v in emu.items(ALICE, case.folder) if v.fields.get(case.ex_name) == "outlook 0")
    emu.update_item(ALICE, item.item_id, {case.ex_name: "outlook 0 edited"})
    fault.cause(emu, case)
    met = tick(host, T0 + timedelta(minutes=5))

    seen = status(host)
    assert any(r.get("full_resync") for r in met.runs) == fault.resync
    if fault.status is not None:
        assert fault.status in {e.status for e in emu.request_log.entries()}
    assert seen.state.value == fault.state, (seen, met.runs)
    if fault.code is not None:
        assert seen.last_error_code == fault.code, seen
        assert seen.failures == 1
        assert seen.next_due_at is not None
        assert seen.next_due_at >= T0 + timedelta(minutes=10)
        assert any(r.get("code") == fault.code for r in met.runs)
    else:
        assert seen.last_success_at == T0 + timedelta(minutes=5)

    emu.faults.clear()
    tick(host, T0 + timedelta(hours=1))
    tick(host, T0 + timedelta(hours=2))
    after = status(host)
    assert after.state.value == "ok"
    assert after.failures == 0
    erp_names, ex_names = both_sides(host, emu, case)
    expected = Counter(
        ["erp 0 edited", "erp 1", "erp 2", "erp 3", "erp 4", "outlook 0 edited", "outlook 1", "outlook 2"]
    )
    assert erp_names == expected
    assert ex_names == expected
