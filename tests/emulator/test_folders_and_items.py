"""GetFolder for each distinguished folder; FindItem restrictions, sorting, paging; bulk calls; id errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from exchangelib import Contact, EWSDate, Q
from exchangelib.errors import ErrorInvalidIdMalformed, ErrorItemNotFound
from exchangelib.folders import (
    Calendar,
    Contacts,
    DeletedItems,
    Drafts,
    Inbox,
    MsgFolderRoot,
    SentItems,
    Tasks,
)
from exchangelib.properties import ItemId

from erp_exchange_plugin.ews.properties import PROPERTY_SET_ID

from .conftest import ALICE


@pytest.mark.parametrize(
    ("folder_cls", "name"),
    [
        (MsgFolderRoot, "Top of Information Store"),
        (Inbox, "Inbox"),
        (SentItems, "Sent Items"),
        (DeletedItems, "Deleted Items"),
        (Drafts, "Drafts"),
        (Contacts, "Contacts"),
        (Calendar, "Calendar"),
        (Tasks, "Tasks"),
    ],
)
def test_get_distinguished_folder(account: Any, folder_cls: Any, name: str) -> None:
    acc = account()
    folder = folder_cls.get_distinguished(root=acc.root)
    assert folder.name == name
    assert folder.id
    assert isinstance(folder, folder_cls)


def test_root_and_counts(account: Any, emu: Any) -> None:
    acc = account()
    assert acc.root.id
    emu.create_item(ALICE, "contacts", {"DisplayName": "x"})
    acc.contacts.refresh()
    assert acc.contacts.total_count == 1


def _seed(emu: Any, n: int) -> list[str]:
    base = dt.datetime(2024, 1, 1, 11, 59, tzinfo=dt.UTC)  # exchangelib writes dates at 11:59 UTC
    return [
        emu.create_item(
            ALICE,
            "contacts",
            {
                "DisplayName": f"Person {i:02d}",
                "CompanyName": "ACME" if i % 2 else "Globex",
                "Birthday": base + dt.timedelta(days=i),
            },
            extended={f"{PROPERTY_SET_ID}:ErpVersion:Integer": i},
        )
        for i in range(n)
    ]


def test_restrictions_over_common_and_extended_fields(account: Any, emu: Any) -> None:
    _seed(emu, 10)
    c = account().contacts

    def names(qs: Any) -> list[str]:
        return sorted(x.display_name for x in qs)

    assert names(c.filter(company_name="ACME")) == [f"Person {i:02d}" for i in range(1, 10, 2)]
    assert len(names(c.filter(company_name__iexact="acme"))) == 5
    assert names(c.exclude(company_name="ACME")) == [f"Person {i:02d}" for i in range(0, 10, 2)]
    assert names(c.filter(erp_version__gt=7)) == ["Person 08", "Person 09"]
    assert names(c.filter(erp_version__gte=8, erp_version__lt=9)) == ["Person 08"]
    assert names(c.filter(erp_version__lte=1)) == ["Person 00", "Person 01"]
    assert names(c.filter(birthday__gte=EWSDate(2024, 1, 9))) == ["Person 08", "Person 09"]
    assert names(c.filter(display_name__contains="son 0")) == [f"Person {i:02d}" for i in range(10)]
    assert names(c.filter(display_name__startswith="Person 05")) == ["Person 05"]
    assert names(c.filter(Q(erp_version=1) | Q(erp_version=2))) == ["Person 01", "Person 02"]
    assert names(c.filter(~Q(company_name="ACME") & Q(erp_version__lt=3))) == ["Person 00", "Person 02"]
    assert len(names(c.filter(erp_id__exists=True))) == 0
    assert len(names(c.filter(erp_version__exists=True))) == 10


def test_sort_order(account: Any, emu: Any) -> None:
    _seed(emu, 5)
    c = account().contacts
    assert [x.display_name for x in c.all().order_by("-erp_version")] == [
        f"Person {i:02d}" for i in range(4, -1, -1)
    ]
    assert [x.display_name for x in c.all().order_by("company_name", "display_name")][:2] == [
        "Person 01",
        "Person 03",
    ]


def test_paging_through_1000_items_with_bulk_calls_of_100(account: Any, emu: Any) -> None:
    acc = account()
    results = acc.bulk_create(
        acc.contacts, [Contact(display_name=f"P{i:04d}", erp_id=f"E{i}") for i in range(1000)]
    )
    assert len(results) == 1000
    assert emu.request_log.count("CreateItem") == 10  # chunks of 100
    seen = [c.display_name for c in acc.contacts.all().only("display_name")]
    assert sorted(seen) == [f"P{i:04d}" for i in range(1000)]
    assert emu.request_log.count("FindItem") == 10  # IndexedPageItemView pages of 100
    full = list(acc.contacts.all())
    assert len(full) == 1000
    assert {c.erp_id for c in full} == {f"E{i}" for i in range(1000)}
    ids = [(c.id, c.changekey) for c in full[:100]]
    assert all(r is True for r in acc.bulk_delete(ids))
    assert acc.contacts.all().count() == 900


def test_slicing_uses_indexed_offsets(account: Any, emu: Any) -> None:
    _seed(emu, 30)
    page = account().contacts.all().order_by("erp_version")[10:15]
    assert [c.display_name for c in page] == [f"Person {i:02d}" for i in range(10, 15)]


def test_get_item_errors_come_back_per_item(account: Any, emu: Any) -> None:
    acc = account()
    [good] = _seed(emu, 1)
    other = emu.create_item(ALICE, "contacts", {"DisplayName": "gone"})
    emu.delete_item(ALICE, other)
    results = list(acc.fetch([ItemId(id=good), ItemId(id=other), ItemId(id="not an id")]))
    assert results[0].display_name == "Person 00"
    assert isinstance(results[1], ErrorItemNotFound)
    assert isinstance(results[2], ErrorInvalidIdMalformed)


def test_bulk_delete_reports_missing_items(account: Any, emu: Any) -> None:
    acc = account()
    [good] = _seed(emu, 1)
    missing = emu.create_item(ALICE, "contacts", {"DisplayName": "gone"})
    emu.delete_item(ALICE, missing)
    results = acc.bulk_delete([(good, None), (missing, None)])
    assert results[0] is True
    assert isinstance(results[1], ErrorItemNotFound)


def test_bulk_update_100(account: Any, emu: Any) -> None:
    acc = account()
    acc.bulk_create(acc.contacts, [Contact(display_name=f"U{i}") for i in range(100)])
    items = list(acc.contacts.all())
    for item in items:
        item.job_title = "updated"
    before = emu.request_log.count("UpdateItem")
    results = acc.bulk_update([(item, ["job_title"]) for item in items])
    assert len(results) == 100
    assert emu.request_log.count("UpdateItem") == before + 1
    assert {v.fields.get("JobTitle") for v in emu.items(ALICE, "contacts")} == {"updated"}


def test_indexed_fields_update_and_delete(account: Any) -> None:
    from exchangelib.indexed_properties import PhoneNumber, PhysicalAddress

    acc = account()
    c = Contact(
        folder=acc.contacts,
        display_name="Indexed",
        phone_numbers=[
            PhoneNumber(label="BusinessPhone", phone_number="1"),
            PhoneNumber(label="HomePhone", phone_number="2"),
        ],
        physical_addresses=[PhysicalAddress(label="Home", city="Hamburg", street="Elbe 1")],
    )
    c.save()
    c.phone_numbers = [PhoneNumber(label="MobilePhone", phone_number="3")]
    c.physical_addresses = [PhysicalAddress(label="Home", city="Bremen")]
    c.save(update_fields=["phone_numbers", "physical_addresses"])
    again = acc.contacts.get(id=c.id)
    assert [(p.label, p.phone_number) for p in again.phone_numbers] == [("MobilePhone", "3")]
    assert [(a.label, a.city, a.street) for a in again.physical_addresses] == [("Home", "Bremen", None)]


def test_conflict_resolution_modes(account: Any, emu: Any) -> None:
    from exchangelib.errors import ErrorIrresolvableConflict
    from exchangelib.items import ALWAYS_OVERWRITE, NEVER_OVERWRITE

    acc = account()
    c = Contact(folder=acc.contacts, display_name="v1", job_title="t1")
    c.save()
    emu.update_item(ALICE, c.id, {"Department": "sales"})
    c.job_title = "t2"
    with pytest.raises(ErrorIrresolvableConflict):
        c.save(update_fields=["job_title"], conflict_resolution=NEVER_OVERWRITE)
    emu.update_item(ALICE, c.id, {"JobTitle": "from outlook"})
    c.save(update_fields=["job_title"], conflict_resolution=ALWAYS_OVERWRITE)
    assert emu.items(ALICE, "contacts")[0].fields["JobTitle"] == "t2"


def test_find_folder_walks_the_tree(account: Any) -> None:
    acc = account()
    names = {f.name for f in acc.msg_folder_root.children}
    assert {"Inbox", "Contacts", "Calendar", "Tasks", "Deleted Items", "Drafts", "Sent Items"} <= names
    assert (acc.root / "Top of Information Store" / "Contacts").id == acc.contacts.id
    assert "Deletions" in {f.name for f in acc.root.walk()}


def test_query_string_is_approximated(account: Any, emu: Any) -> None:
    emu.create_item(ALICE, "contacts", {"DisplayName": "Ada Lovelace", "CompanyName": "Analytical Engines"})
    emu.create_item(
        ALICE, "contacts", {"DisplayName": "Charles Babbage", "CompanyName": "Analytical Engines"}
    )
    c = account().contacts
    assert [x.display_name for x in c.filter("lovelace")] == ["Ada Lovelace"]
    assert len(list(c.filter("analytical engines"))) == 2
    assert [x.display_name for x in c.filter("displayname:babbage")] == ["Charles Babbage"]


def test_create_use_and_delete_a_subfolder(account: Any, emu: Any) -> None:
    from exchangelib.errors import ErrorDeleteDistinguishedFolder, ErrorFolderExists

    acc = account()
    erp = Contacts(parent=acc.contacts, name="ERP addresses")
    erp.save()
    assert erp.id
    assert "ERP addresses" in {f.name for f in acc.contacts.children}
    Contact(folder=erp, display_name="in a subfolder", erp_id="SUB-1").save()
    assert [c.display_name for c in erp.filter(erp_id="SUB-1")] == ["in a subfolder"]
    assert [k for k, _ in erp.sync_items()] == ["create"]
    assert acc.contacts.all().count() == 0  # the parent folder does not see it
    with pytest.raises(ErrorFolderExists):
        Contacts(parent=acc.contacts, name="erp addresses").save()
    erp.delete()
    assert "ERP addresses" not in {f.name for f in account().contacts.children}
    with pytest.raises(ErrorDeleteDistinguishedFolder):
        acc.contacts.delete()
