"""The contacts item type's mapping, both ways, without a server (the engine tests use the emulator)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from exchangelib import Contact, HTMLBody
from hypothesis import given, settings
from hypothesis import strategies as st

from erp_exchange_plugin.item_types import contacts
from erp_exchange_plugin.plugin_types import RecordInvalid

FULL: dict[str, Any] = {
    "display_name": "Dr. Zoë Ångström-Łukasiewicz",
    "title": "Dr.",
    "given_name": "Zoë",
    "middle_name": "Maria",
    "surname": "Ångström-Łukasiewicz",
    "company": "Müller & Söhne GmbH",
    "department": "Einkauf",
    "job_title": "Leiterin",
    "emails": ["zoe@mueller.example", "z.a@private.example"],
    "phones": {"business": "+49 30 1234-0", "mobile": "+49 170 555", "home": None, "fax": "+49 30 1234-99"},
    "addresses": {
        "business": {
            "street": "Hauptstraße 1\nHinterhaus",
            "city": "Berlin",
            "state": "BE",
            "postal_code": "10115",
            "country": "Deutschland",
        },
        "home": {
            "street": "Weg 2",
            "city": "Potsdam",
            "state": None,
            "postal_code": "14467",
            "country": None,
        },
    },
    "web_page": "https://mueller.example",
    "birthday": dt.date(1980, 2, 29),
    "categories": ["Kunde", "A-Kunde"],
    "notes": "Zahlt pünktlich.\nBevorzugt E-Mail.",
}


def _round_trip(fields: dict[str, Any]) -> dict[str, Any]:
    item = Contact(**contacts.to_exchange(contacts.normalize(fields)))
    return contacts.to_erp(item)


def test_a_full_record_survives_the_round_trip() -> None:
    assert _round_trip(FULL) == contacts.normalize(FULL)


def test_normalize_is_idempotent_and_canonical() -> None:
    once = contacts.normalize(FULL)
    assert contacts.normalize(once) == once
    assert once["categories"] == ["A-Kunde", "Kunde"]
    assert "other" not in once["addresses"]


def test_display_name_is_derived_when_missing() -> None:
    assert contacts.normalize({"given_name": "Ada", "surname": "Lovelace"})["display_name"] == "Ada Lovelace"
    assert contacts.normalize({"company": "ACME"})["display_name"] == "ACME"


def test_empty_strings_whitespace_and_line_endings_are_canonical() -> None:
    fields = contacts.normalize({"display_name": "  A   B ", "department": "  ", "notes": "x  \r\ny\r\n\r\n"})
    assert fields["display_name"] == "A B"
    assert fields["department"] is None
    assert fields["notes"] == "x\ny"


def test_notes_edited_as_html_in_outlook_come_back_as_text() -> None:
    item = Contact(
        display_name="X", body=HTMLBody("<html><body><p>Hello &amp; welcome</p><p>Line 2</p></body></html>")
    )
    assert contacts.to_erp(item)["notes"] == "Hello & welcome\n\nLine 2"


def test_clearing_a_field_sends_none_so_exchange_deletes_it() -> None:
    values = contacts.to_exchange(contacts.normalize({"display_name": "X"}))
    assert values["email_addresses"] is None
    assert values["body"] is None
    assert values["display_name_prefix"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (
            {"display_name": "X", "emails": ["a@x.example", "b@x.example", "c@x.example", "d@x.example"]},
            "emails",
        ),
        ({"display_name": "X", "emails": ["not an address"]}, "emails[0]"),
        ({"display_name": "X", "phones": {"pager": "1"}}, "phones.pager"),
        ({"display_name": "X", "addresses": {"office": {"city": "B"}}}, "addresses.office"),
        ({"display_name": "X", "addresses": {"home": {"zip": "1"}}}, "addresses.home.zip"),
        ({"display_name": "X", "birthday": "29.02.1980"}, "birthday"),
        ({"display_name": 42}, "display_name"),
        ({"display_name": "X", "colour": "red"}, "colour"),
        ({"display_name": "X", "surname": "y" * 300}, "surname"),
        ({}, "display_name"),
    ],
)
def test_bad_records_are_refused_naming_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordInvalid) as exc:
        contacts.normalize(fields)
    assert exc.value.field == field


def test_the_item_type_declares_only_what_it_maps() -> None:
    item_type = contacts.item_type()
    assert item_type.name == "contacts"
    assert item_type.erp_entity == "address"
    ews = item_type.backends["ews"]
    mapped = set(contacts.to_exchange(contacts.normalize(FULL)))
    assert mapped <= set(ews.fields)  # type: ignore[attr-defined]
    assert {f.name for f in Contact.FIELDS} >= set(ews.fields)  # type: ignore[attr-defined]


text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
records = st.fixed_dictionaries(
    {
        "display_name": text.filter(lambda s: s.strip()),
        "given_name": st.none() | text,
        "surname": st.none() | text,
        "company": st.none() | text,
        "emails": st.lists(st.emails(), max_size=3, unique_by=str.lower),
        "phones": st.fixed_dictionaries({k: st.none() | text for k in contacts.PHONE_LABELS}),
        "categories": st.lists(text, max_size=4),
        "birthday": st.none() | st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
        "notes": st.none() | st.text(max_size=200),
    }
)


@settings(max_examples=200, deadline=None)
@given(records)
def test_any_valid_record_round_trips(fields: dict[str, Any]) -> None:
    assert _round_trip(fields) == contacts.normalize(fields)
