"""Contacts end to end through exchangelib: create, read, update, delete, extended property, FindItem."""

from __future__ import annotations

from typing import Any

import pytest
from exchangelib import Contact
from exchangelib.errors import ErrorIrresolvableConflict, ErrorItemNotFound
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress

from .conftest import ALICE, ERP_ID_KEY


def test_create_read_update_delete_contact(account: Any, emu: Any) -> None:
    acc = account()
    contact = Contact(
        folder=acc.contacts,
        display_name="Jane Doe",
        given_name="Jane",
        surname="Doe",
        company_name="ACME",
        job_title="CEO",
        erp_id="ERP-42",
        email_addresses=[EmailAddress(email="jane@acme.test", label="EmailAddress1")],
        phone_numbers=[PhoneNumber(phone_number="+49 30 1234", label="BusinessPhone")],
        physical_addresses=[
            PhysicalAddress(label="Business", street="Main St 1", city="Berlin", zipcode="10115")
        ],
    )
    contact.save()
    assert contact.id
    assert contact.changekey

    [stored] = emu.items(ALICE, "contacts")
    assert stored.fields["DisplayName"] == "Jane Doe"
    assert stored.extended[ERP_ID_KEY] == "ERP-42"

    fetched = acc.contacts.get(id=contact.id)
    assert (fetched.display_name, fetched.erp_id, fetched.job_title) == ("Jane Doe", "ERP-42", "CEO")
    assert fetched.email_addresses[0].email == "jane@acme.test"
    assert fetched.physical_addresses[0].city == "Berlin"

    first_key = fetched.changekey
    fetched.display_name = "Jane Q. Doe"
    fetched.job_title = None
    fetched.save(update_fields=["display_name", "job_title"])
    assert fetched.changekey != first_key
    again = acc.contacts.get(id=contact.id)
    assert (again.display_name, again.job_title) == ("Jane Q. Doe", None)

    again.delete()
    assert emu.items(ALICE, "contacts") == []
    with pytest.raises(ErrorItemNotFound):
        acc.contacts.get(id=contact.id)


def test_find_by_extended_property(account: Any) -> None:
    acc = account()
    acc.bulk_create(acc.contacts, [Contact(display_name=f"C{i}", erp_id=f"ERP-{i}") for i in range(5)])
    found = list(acc.contacts.filter(erp_id="ERP-3"))
    assert [c.display_name for c in found] == ["C3"]
    assert {c.display_name for c in acc.contacts.filter(erp_id__in=["ERP-1", "ERP-4"])} == {"C1", "C4"}


def test_stale_change_key_conflicts(account: Any, emu: Any) -> None:
    acc = account()
    contact = Contact(folder=acc.contacts, display_name="A", job_title="x")
    contact.save()
    emu.update_item(ALICE, contact.id, {"DisplayName": "changed in Outlook"})
    contact.display_name = "changed by ERP"
    with pytest.raises(ErrorIrresolvableConflict):
        contact.save(update_fields=["display_name"])
    # AutoResolve merges a stale change key when the fields do not overlap
    contact.job_title = "y"
    contact.save(update_fields=["job_title"])
    [stored] = emu.items(ALICE, "contacts")
    assert (stored.fields["DisplayName"], stored.fields["JobTitle"]) == ("changed in Outlook", "y")
