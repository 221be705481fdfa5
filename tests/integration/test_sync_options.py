"""Per-item-type settings drive the engine: direction, enabled, and the deletion guard's limits."""

from __future__ import annotations

from typing import Any

from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.sync.report import RunReport
from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

from .conftest import ALICE


def run(erp: StubHost, service: SyncService) -> RunReport | None:
    settings = resolve_user(erp, "anna").settings
    assert settings is not None
    reports = service.sync_user(settings, ["contacts"])
    return reports[0] if reports else None


def names(items: list[Any]) -> set[str]:
    return {str(v.fields.get("DisplayName")) for v in items}


def erp_fields(erp: StubHost) -> dict[str, Any]:
    page = erp.records("address", "anna").changes_since(None, 1000)
    return {c.record.fields["display_name"]: c.record for c in page.changes if c.record is not None}


def test_erp_to_exchange_mirrors_the_erp_and_leaves_outlook_alone(
    erp: StubHost, emu: Emulator, service: SyncService
) -> None:
    erp.set_user_settings("anna", SECTION, {"item_types": {"contacts": {"direction": "erp_to_exchange"}}})
    emu.create_item(ALICE, "contacts", {"DisplayName": "Outlook Private"})
    store = erp.records("address", "anna")
    rec = store.put(None, {"display_name": "ERP Customer", "job_title": "Buyer"}, None)
    report = run(erp, service)
    assert report is not None
    assert (report.to_exchange.created, report.to_erp.created) == (1, 0)
    assert set(erp_fields(erp)) == {"ERP Customer"}
    [ours] = [v for v in emu.items(ALICE, "contacts") if v.fields["DisplayName"] == "ERP Customer"]
    emu.update_item(ALICE, ours.item_id, {"JobTitle": "edited in Outlook"})
    assert run(erp, service).to_erp.updated == 0  # type: ignore[union-attr]
    assert store.get(rec.record_id).fields["job_title"] == "Buyer"  # type: ignore[union-attr]
    current = store.get(rec.record_id)
    assert current is not None
    store.put(rec.record_id, {**current.fields, "job_title": "Head Buyer"}, current.version)
    report = run(erp, service)
    assert report is not None
    assert report.to_exchange.updated == 1
    assert emu.item(ALICE, ours.item_id).fields["JobTitle"] == "Head Buyer"  # type: ignore[union-attr]


def test_exchange_to_erp_mirrors_exchange_and_leaves_the_erp_alone(
    erp: StubHost, emu: Emulator, service: SyncService
) -> None:
    erp.set_user_settings("anna", SECTION, {"item_types": {"contacts": {"direction": "exchange_to_erp"}}})
    item_id = emu.create_item(ALICE, "contacts", {"DisplayName": "From Outlook", "JobTitle": "Seller"})
    erp.records("address", "anna").put(None, {"display_name": "ERP Only"}, None)
    report = run(erp, service)
    assert report is not None
    assert (report.to_exchange.created, report.to_erp.created) == (0, 1)
    assert names(emu.items(ALICE, "contacts")) == {"From Outlook"}
    store = erp.records("address", "anna")
    imported = erp_fields(erp)["From Outlook"]
    store.put(imported.record_id, {**imported.fields, "job_title": "edited in the ERP"}, imported.version)
    assert run(erp, service).to_exchange.updated == 0  # type: ignore[union-attr]
    assert emu.item(ALICE, item_id).fields["JobTitle"] == "Seller"  # type: ignore[union-attr]
    emu.update_item(ALICE, item_id, {"JobTitle": "Head Seller"})
    report = run(erp, service)
    assert report is not None
    assert report.conflicts == []  # one-way: the source wins without a conflict policy
    assert erp_fields(erp)["From Outlook"].fields["job_title"] == "Head Seller"


def test_a_disabled_item_type_is_not_synced_and_costs_no_request(
    erp: StubHost, emu: Emulator, service: SyncService
) -> None:
    erp.set_user_settings("anna", SECTION, {"item_types": {"contacts": {"enabled": False}}})
    erp.records("address", "anna").put(None, {"display_name": "Stays Home"}, None)
    emu.request_log.clear()
    assert run(erp, service) is None
    assert emu.request_log.counts() == {}
    assert emu.items(ALICE, "contacts") == []


def test_the_deletion_guard_takes_its_limits_from_the_tenant_settings(
    erp: StubHost, emu: Emulator, service: SyncService
) -> None:
    erp.set_tenant_settings(
        SECTION, emulator_tenant_settings(emu, delete_guard_max_share=0.2, delete_guard_min_items=3)
    )
    store = erp.records("address", "anna")
    records = [store.put(None, {"display_name": f"Guarded {i}"}, None) for i in range(5)]
    run(erp, service)
    for rec in records[:2]:
        store.delete(rec.record_id, None)
    report = run(erp, service)
    assert report is not None
    assert report.stopped is not None
    assert "more than the allowed 20%" in report.stopped
    assert len(emu.items(ALICE, "contacts")) == 5


def test_the_calendar_window_leaves_old_history_alone(erp: StubHost, emu: Emulator) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from erp_exchange_plugin.item_types import calendar

    berlin = ZoneInfo("Europe/Berlin")
    now = dt.datetime.now(berlin).replace(microsecond=0, second=0, minute=0)
    store = erp.records("appointment", "anna")

    def event(subject: str, start: dt.datetime) -> dict[str, Any]:
        return {
            "subject": subject,
            "start": start,
            "end": start + dt.timedelta(hours=1),
            "timezone": "Europe/Berlin",
        }

    store.put(None, event("Two years ago", now - dt.timedelta(days=730)), None)
    store.put(None, event("Next week", now + dt.timedelta(days=7)), None)
    old = (now - dt.timedelta(days=400)).astimezone(dt.UTC)
    emu.create_item(
        ALICE, "calendar", {"Subject": "Outlook history", "Start": old, "End": old + dt.timedelta(hours=1)}
    )
    service = SyncService(erp, {"calendar": calendar.item_type()})
    try:
        settings = resolve_user(erp, "anna").settings
        assert settings is not None
        (report,) = service.sync_user(settings, ["calendar"])
    finally:
        service.close()
    assert (report.to_exchange.created, report.to_erp.created) == (1, 0)
    assert {str(v.fields.get("Subject")) for v in emu.items(ALICE, "calendar")} == {
        "Next week",
        "Outlook history",
    }
    page = store.changes_since(None, 100)
    assert {c.record.fields["subject"] for c in page.changes if c.record} == {"Two years ago", "Next week"}
