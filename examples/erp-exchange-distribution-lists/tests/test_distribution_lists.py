"""Distribution lists <-> contact groups, end to end: the stub host's timer drives the Exchange plugin,
which finds this plugin through its entry point, against the EWS emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from erp_exchange_distribution_lists import mapping

from erp_exchange_plugin.manager import ExtensionManager
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator

from .conftest import ALICE

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def tick(erp: StubHost, minutes: int = 0) -> dict[tuple[str, str], dict[str, Any]]:
    (report,) = [r for r in erp.timer_tick(now=NOW + timedelta(minutes=minutes)) if r.plugin == "exchange"]
    assert report.errors == ()
    return {(r["user_id"], r["item_type"]): r for r in report.runs}


def groups(erp: StubHost) -> dict[str, Any]:
    page = erp.records("contact_group", "anna").changes_since(None, 1000)
    return {c.record.fields["name"]: c.record for c in page.changes if c.record is not None}


def lists(emu: Emulator) -> dict[str, Any]:
    return {v.fields["DisplayName"]: v for v in emu.items(ALICE, "contacts") if v.kind == "DistributionList"}


def test_the_plugin_is_found_through_its_entry_point() -> None:
    manager = ExtensionManager()
    assert manager.item_types["distribution_lists"].erp_entity == "contact_group"
    status = {s.name: s for s in manager.statuses}["distribution_lists"]
    assert status.item_types == ("distribution_lists",)


def test_an_erp_group_becomes_a_distribution_list(erp: StubHost, emu: Emulator) -> None:
    erp.records("contact_group", "anna").put(
        None,
        {
            "name": "Einkauf",
            "members": [{"email": "zoe@kunde.example", "name": "Zoë"}, {"email": "bo@kunde.example"}],
        },
        None,
    )
    runs = tick(erp)
    assert runs[("anna", "distribution_lists")]["to_exchange"]["created"] == 1
    assert runs[("anna", "contacts")]["to_exchange"]["created"] == 0  # contacts do not see the list
    (item,) = lists(emu).values()
    assert "zoe@kunde.example" in str(item.fields.get("Members"))


def test_a_list_made_in_outlook_becomes_an_erp_group_and_edits_flow_back(
    erp: StubHost, emu: Emulator
) -> None:
    emu.create_item(ALICE, "contacts", {"DisplayName": "Vertrieb"}, kind="DistributionList")
    tick(erp)
    group = groups(erp)["Vertrieb"]
    assert group.fields["members"] == []
    store = erp.records("contact_group", "anna")
    store.put(
        group.record_id,
        {**group.fields, "members": [{"email": "neu@kunde.example", "name": None}]},
        group.version,
    )
    runs = tick(erp, minutes=6)
    assert runs[("anna", "distribution_lists")]["to_exchange"]["updated"] == 1
    assert "neu@kunde.example" in str(lists(emu)["Vertrieb"].fields.get("Members"))
    quiet = tick(erp, minutes=12)
    assert quiet[("anna", "distribution_lists")]["to_exchange"] == {"created": 0, "updated": 0, "deleted": 0}
    assert quiet[("anna", "distribution_lists")]["to_erp"] == {"created": 0, "updated": 0, "deleted": 0}


def test_normalize_compares_members_as_a_set() -> None:
    a = mapping.normalize(
        {"name": " G ", "members": [{"email": "b@x.example"}, {"email": "A@x.example", "name": "A"}]}
    )
    b = mapping.normalize(
        {"name": "G", "members": [{"email": "A@x.example", "name": "A"}, {"email": "b@x.example"}]}
    )
    assert a == b
    assert [m["email"] for m in a["members"]] == ["A@x.example", "b@x.example"]
