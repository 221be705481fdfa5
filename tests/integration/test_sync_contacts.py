"""The sync engine on contacts, against the emulator (real SOAP over HTTPS) and the stub host."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from erp_exchange_plugin.ews import transport
from erp_exchange_plugin.ews.properties import PROPERTY_SET_ID
from erp_exchange_plugin.item_types import contacts
from erp_exchange_plugin.sync.report import RunReport
from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator

from .conftest import ALICE

ERP_ID = f"{PROPERTY_SET_ID}:ErpId:String"
INSTALLATION = f"{PROPERTY_SET_ID}:ErpInstallation:String"
Sync = Callable[[], RunReport]


def address(name: str, **extra: Any) -> dict[str, Any]:
    given, _, surname = name.partition(" ")
    return {"display_name": name, "given_name": given, "surname": surname or None, **extra}


def exchange_contacts(emu: Emulator) -> dict[str, Any]:
    return {v.fields.get("DisplayName"): v for v in emu.items(ALICE, "contacts")}


def erp_records(erp: StubHost) -> dict[str, Any]:
    store = erp.records("address", "anna")
    page = store.changes_since(None, 10_000)
    return {c.record.fields["display_name"]: c.record for c in page.changes if c.record is not None}


def both_sides(erp: StubHost, emu: Emulator) -> tuple[dict[str, Any], dict[str, Any]]:
    """Normalized content of both sides, by display name."""
    erp_side = {n: contacts.normalize(r.fields) for n, r in erp_records(erp).items()}
    return erp_side, exchange_contacts(emu)


def test_erp_addresses_are_created_in_exchange_stamped_with_their_erp_id(
    erp: StubHost, emu: Emulator, sync: Sync, service: SyncService
) -> None:
    store = erp.records("address", "anna")
    ids = {
        store.put(None, address(f"Person {i}", emails=[f"p{i}@example.org"]), None).record_id
        for i in range(3)
    }
    report = sync()
    assert report.ok, report
    assert report.to_exchange.created == 3
    items = emu.items(ALICE, "contacts")
    assert {v.extended[ERP_ID] for v in items} == ids
    assert {v.extended[INSTALLATION] for v in items} == {service.state.installation_id}
    assert exchange_contacts(emu)["Person 1"].fields["EmailAddresses"] == {"EmailAddress1": "p1@example.org"}


def test_exchange_contacts_are_created_in_the_erp(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    emu.create_item(
        ALICE, "contacts", {"DisplayName": "Zoë Ågren", "GivenName": "Zoë", "CompanyName": "ACME"}
    )
    report = sync()
    assert report.to_erp.created == 1
    record = erp_records(erp)["Zoë Ågren"]
    assert record.fields["company"] == "ACME"
    assert record.fields["given_name"] == "Zoë"


def test_a_second_run_writes_nothing_and_costs_one_request(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("address", "anna")
    for i in range(5):
        store.put(None, address(f"P {i}"), None)
    emu.create_item(ALICE, "contacts", {"DisplayName": "From Outlook"})
    first = sync()
    assert first.to_exchange.created == 5
    assert first.to_erp.created == 1
    emu.request_log.clear()
    second = sync()
    assert second.to_exchange == second.to_erp
    assert (second.to_exchange.created, second.to_exchange.updated, second.to_exchange.deleted) == (0, 0, 0)
    assert second.conflicts == []
    assert emu.request_log.counts() == {"SyncFolderItems": 1}
    assert second.requests == 1


def test_edits_flow_both_ways_without_echo(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("address", "anna")
    rec = store.put(None, address("Ada Lovelace", job_title="Analyst"), None)
    emu_id_before = None
    sync()
    [item] = emu.items(ALICE, "contacts")
    emu_id_before = item.item_id
    current = store.get(rec.record_id)
    assert current is not None
    store.put(rec.record_id, {**current.fields, "job_title": "Countess"}, current.version)
    report = sync()
    assert report.to_exchange.updated == 1
    assert emu.item(ALICE, emu_id_before).fields["JobTitle"] == "Countess"  # type: ignore[union-attr]
    emu.update_item(ALICE, emu_id_before, {"Department": "Mathematics"})
    report = sync()
    assert report.to_erp.updated == 1
    assert store.get(rec.record_id).fields["department"] == "Mathematics"  # type: ignore[union-attr]
    quiet = sync()
    assert (quiet.to_exchange.updated, quiet.to_erp.updated) == (0, 0)


def test_a_conflict_is_resolved_by_the_newest_and_logged(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("address", "anna")
    rec = store.put(None, address("Grace Hopper"), None)
    sync()
    [item] = emu.items(ALICE, "contacts")
    emu.update_item(ALICE, item.item_id, {"JobTitle": "Admiral (Outlook)"})
    current = store.get(rec.record_id)
    assert current is not None
    store.put(rec.record_id, {**current.fields, "job_title": "Rear Admiral (ERP)"}, current.version)
    report = sync()
    assert len(report.conflicts) == 1
    assert "newest_wins" in report.conflicts[0]
    erp_side, ex_side = both_sides(erp, emu)
    assert erp_side["Grace Hopper"]["job_title"] == ex_side["Grace Hopper"].fields["JobTitle"]
    assert sync().conflicts == []


def test_deletes_flow_both_ways(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("address", "anna")
    a = store.put(None, address("Alpha One"), None)
    store.put(None, address("Beta Two"), None)
    store.put(None, address("Gamma Three"), None)
    sync()
    store.delete(a.record_id, None)
    report = sync()
    assert report.to_exchange.deleted == 1
    assert set(exchange_contacts(emu)) == {"Beta Two", "Gamma Three"}
    assert "Alpha One" in {v.fields.get("DisplayName") for v in emu.items(ALICE, "deleteditems")}
    beta = exchange_contacts(emu)["Beta Two"]
    emu.delete_item(ALICE, beta.item_id)
    report = sync()
    assert report.to_erp.deleted == 1
    assert set(erp_records(erp)) == {"Gamma Three"}


def test_the_deletion_guard_stops_a_run_that_would_empty_exchange_side(
    erp: StubHost, emu: Emulator, sync: Sync
) -> None:
    store = erp.records("address", "anna")
    for i in range(4):
        store.put(None, address(f"Keep {i}"), None)
    sync()
    for item in emu.items(ALICE, "contacts"):
        emu.delete_item(ALICE, item.item_id)
    report = sync()
    assert report.stopped is not None
    assert "all 4" in report.stopped
    assert len(erp_records(erp)) == 4
    (alert,) = erp.raised_alerts(code="sync.delete_guard")
    assert alert.for_admin


def test_the_deletion_guard_stops_a_large_share(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("address", "anna")
    records = [store.put(None, address(f"Many {i}"), None) for i in range(12)]
    sync()
    for rec in records[:7]:
        store.delete(rec.record_id, None)
    report = sync()
    assert report.stopped is not None
    assert "7 of 12" in report.stopped
    assert len(emu.items(ALICE, "contacts")) == 12


def test_an_edit_wins_over_a_delete(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("address", "anna")
    rec = store.put(None, address("Edith Edit"), None)
    store.put(None, address("Other One"), None)
    store.put(None, address("Other Two"), None)
    sync()
    [item] = [v for v in emu.items(ALICE, "contacts") if v.fields["DisplayName"] == "Edith Edit"]
    emu.delete_item(ALICE, item.item_id)
    current = store.get(rec.record_id)
    assert current is not None
    store.put(rec.record_id, {**current.fields, "job_title": "Survivor"}, current.version)
    report = sync()
    assert any("deleted in Exchange but edited in the ERP" in c for c in report.conflicts)
    assert exchange_contacts(emu)["Edith Edit"].fields["JobTitle"] == "Survivor"
    assert store.get(rec.record_id) is not None


def test_an_invalid_sync_state_resyncs_by_erp_id_without_copies(
    erp: StubHost, emu: Emulator, sync: Sync
) -> None:
    store = erp.records("address", "anna")
    for i in range(5):
        store.put(None, address(f"Resync {i}"), None)
    emu.create_item(ALICE, "contacts", {"DisplayName": "Outlook Only"})
    sync()
    emu.invalidate_sync_state(ALICE, "contacts")
    report = sync()
    assert report.full_resync
    assert (report.to_exchange.created, report.to_erp.created) == (0, 0)
    assert len(emu.items(ALICE, "contacts")) == 6
    assert len(erp_records(erp)) == 6


def test_bulk_writes_go_in_chunks_of_100(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("address", "anna")
    for i in range(250):
        store.put(None, address(f"Bulk {i:03d}", birthday=dt.date(1990, 1, 1 + i % 28)), None)
    report = sync()
    assert report.to_exchange.created == 250
    assert emu.request_log.count("CreateItem") == 3
    assert len(emu.items(ALICE, "contacts")) == 250


def test_a_dropped_connection_after_create_leaves_no_duplicate(
    erp: StubHost, emu: Emulator, sync: Sync
) -> None:
    store = erp.records("address", "anna")
    for i in range(3):
        store.put(None, address(f"Dropped {i}"), None)
    emu.inject("drop_after", operation="CreateItem", count=1)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the connection dropped: whatever the client raises
        sync()
    assert len(emu.items(ALICE, "contacts")) == 3  # the server applied the create
    report = sync()
    assert report.recovered == 3
    assert report.to_exchange.created == 0
    assert len(emu.items(ALICE, "contacts")) == 3
    assert len(erp_records(erp)) == 3
    assert sync().to_exchange.created == 0


def test_a_second_installation_is_refused(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    emu.create_item(
        ALICE,
        "contacts",
        {"DisplayName": "Theirs"},
        extended={ERP_ID: "X-1", INSTALLATION: "another-installation"},
    )
    report = sync()
    assert report.stopped is not None
    assert "another installation" in report.stopped
    assert erp_records(erp) == {}
    assert erp.raised_alerts(code="sync.foreign_installation")


def test_distribution_lists_in_the_contacts_folder_are_not_contacts(
    erp: StubHost, emu: Emulator, sync: Sync
) -> None:
    emu.create_item(ALICE, "contacts", {"DisplayName": "Team list"}, kind="DistributionList")
    emu.create_item(ALICE, "contacts", {"DisplayName": "Real Person"})
    report = sync()
    assert report.ok, report
    assert report.to_erp.created == 1
    assert set(erp_records(erp)) == {"Real Person"}


def test_edits_of_different_fields_on_both_sides_are_merged(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("address", "anna")
    rec = store.put(None, address("Merge Me", job_title="Clerk", department="Sales"), None)
    sync()
    [item] = emu.items(ALICE, "contacts")
    emu.update_item(ALICE, item.item_id, {"Department": "Marketing (Outlook)"})
    current = store.get(rec.record_id)
    assert current is not None
    store.put(rec.record_id, {**current.fields, "job_title": "Manager (ERP)"}, current.version)
    report = sync()
    assert report.conflicts == [f"{rec.record_id}: changed on both sides in different fields: merged"]
    merged = store.get(rec.record_id)
    assert merged is not None
    assert (merged.fields["job_title"], merged.fields["department"]) == (
        "Manager (ERP)",
        "Marketing (Outlook)",
    )
    fields = emu.item(ALICE, item.item_id).fields  # type: ignore[union-attr]
    assert (fields["JobTitle"], fields["Department"]) == ("Manager (ERP)", "Marketing (Outlook)")
    quiet = sync()
    assert (quiet.to_exchange.updated, quiet.to_erp.updated, quiet.conflicts) == (0, 0, [])


def test_an_update_sends_only_the_fields_that_changed(
    erp: StubHost, emu: Emulator, sync: Sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = erp.records("address", "anna")
    rec = store.put(
        None,
        address(
            "Phones Person", phones={"business": "+49 1", "mobile": "+49 2", "home": "+49 3", "fax": None}
        ),
        None,
    )
    sync()
    current = store.get(rec.record_id)
    assert current is not None
    store.put(rec.record_id, {**current.fields, "job_title": "Only this changed"}, current.version)
    sent: list[bytes] = []
    original = transport.CaRoutingAdapter.send

    def spy(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(request.body if isinstance(request.body, bytes) else str(request.body or "").encode())
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(transport.CaRoutingAdapter, "send", spy)
    report = sync()
    assert report.to_exchange.updated == 1
    (update,) = [b for b in sent if b"<m:UpdateItem" in b]
    assert b"contacts:JobTitle" in update
    assert b"PhoneNumber" not in update
