"""ERP addresses <-> Exchange contacts.

The ERP record (entity ``address``) has these fields; :func:`normalize` checks and canonicalises
them, and both directions of the mapping produce exactly this shape:

=================  =============================================  ==============================
field              type                                            Exchange contact
=================  =============================================  ==============================
display_name       text (required; derived from names if empty)   DisplayName
title              text ("Dr.")                                   PidTagDisplayNamePrefix
given_name         text                                           GivenName
middle_name        text                                           MiddleName
surname            text                                           Surname
company            text                                           CompanyName
department         text                                           Department
job_title          text                                           JobTitle
emails             list of up to 3 addresses                      EmailAddress1..3
phones             {business, mobile, home, fax: text}            BusinessPhone, MobilePhone,
                                                                  HomePhone, BusinessFax
addresses          {business, home, other: {street, city, state,  PhysicalAddresses Business,
                   postal_code, country}}                         Home, Other
web_page           text                                           BusinessHomePage
birthday           date                                           Birthday
categories         list of text (compared as a sorted set)        Categories
notes              multi-line text                                the body (Contact.notes is
                                                                  read-only in EWS)
=================  =============================================  ==============================

A record with more than three e-mail addresses (or other content Exchange cannot hold) is
refused with :class:`~erp_exchange_plugin.plugin_types.RecordInvalid`: it is reported and
left alone rather than synced with a part cut off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any, Final

from exchangelib import Body, Contact, EWSDate, HTMLBody
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress

from erp_exchange_plugin.ews.properties import register
from erp_exchange_plugin.hookspecs import hookimpl
from erp_exchange_plugin.item_types.text import clean, html_to_text
from erp_exchange_plugin.plugin_types import EwsMapping, ItemType, RecordInvalid

NAME_FIELDS: Final = ("title", "given_name", "middle_name", "surname")
TEXT_FIELDS: Final = (*NAME_FIELDS, "company", "department", "job_title", "web_page")
PHONE_LABELS: Final = {
    "business": "BusinessPhone",
    "mobile": "MobilePhone",
    "home": "HomePhone",
    "fax": "BusinessFax",
}
ADDRESS_LABELS: Final = {"business": "Business", "home": "Home", "other": "Other"}
ADDRESS_PARTS: Final = ("street", "city", "state", "postal_code", "country")
MAX_EMAILS: Final = 3

register()  # the mapping below reads and writes our extended properties

EWS_FIELDS: Final = (
    "display_name",
    "display_name_prefix",
    "given_name",
    "middle_name",
    "surname",
    "company_name",
    "department",
    "job_title",
    "email_addresses",
    "phone_numbers",
    "physical_addresses",
    "business_homepage",
    "birthday",
    "categories",
    "body",
    "erp_id",
    "erp_installation",
    "last_modified_time",
)
"""The exchangelib fields we fetch (nothing else is requested)."""


def _mapping(name: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RecordInvalid(name, f"must be an object, not {type(value).__name__}")
    return value


def _birthday(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise RecordInvalid("birthday", f"{value!r} is not a date (YYYY-MM-DD)") from None
    raise RecordInvalid("birthday", f"must be a date, not {type(value).__name__}")


def _emails(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise RecordInvalid("emails", f"must be a list, not {type(value).__name__}")
    emails: list[str] = []
    for i, raw in enumerate(value):
        email = clean(f"emails[{i}]", raw, max_length=320)
        if email is None:
            continue
        if "@" not in email or " " in email:
            raise RecordInvalid(f"emails[{i}]", f"{email!r} is not an e-mail address")
        if email.lower() not in (e.lower() for e in emails):
            emails.append(email)
    if len(emails) > MAX_EMAILS:
        raise RecordInvalid(
            "emails", f"has {len(emails)} addresses; an Exchange contact holds at most {MAX_EMAILS}"
        )
    return emails


def _categories(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise RecordInvalid("categories", f"must be a list, not {type(value).__name__}")
    found = {clean(f"categories[{i}]", v) for i, v in enumerate(value)}
    return sorted(c for c in found if c is not None)


def normalize(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of an address record (see the module's table)."""
    known = {*TEXT_FIELDS, "display_name", "emails", "phones", "addresses", "birthday", "categories", "notes"}
    out: dict[str, Any] = {name: clean(name, fields.get(name)) for name in TEXT_FIELDS}
    phones = _mapping("phones", fields.get("phones"))
    for key in phones:
        if key not in PHONE_LABELS:
            raise RecordInvalid(f"phones.{key}", f"is not one of {', '.join(PHONE_LABELS)}")
    out["phones"] = {key: clean(f"phones.{key}", phones.get(key), max_length=64) for key in PHONE_LABELS}
    addresses = _mapping("addresses", fields.get("addresses"))
    out["addresses"] = {}
    for key, raw in addresses.items():
        if key not in ADDRESS_LABELS:
            raise RecordInvalid(f"addresses.{key}", f"is not one of {', '.join(ADDRESS_LABELS)}")
        parts = _mapping(f"addresses.{key}", raw)
        for part in parts:
            if part not in ADDRESS_PARTS:
                raise RecordInvalid(f"addresses.{key}.{part}", f"is not one of {', '.join(ADDRESS_PARTS)}")
        address = {
            part: clean(
                f"addresses.{key}.{part}", parts.get(part), multiline=part == "street", max_length=1024
            )
            for part in ADDRESS_PARTS
        }
        if any(address.values()):
            out["addresses"][key] = address
    out["emails"] = _emails(fields.get("emails"))
    out["birthday"] = _birthday(fields.get("birthday"))
    out["categories"] = _categories(fields.get("categories"))
    out["notes"] = clean("notes", fields.get("notes"), multiline=True, max_length=1_000_000)
    display = clean("display_name", fields.get("display_name"))
    if display is None:
        display = (
            " ".join(p for p in (out["given_name"], out["middle_name"], out["surname"]) if p)
            or out["company"]
        )
    if display is None:
        raise RecordInvalid("display_name", "is empty and there is no name or company to derive it from")
    out["display_name"] = display
    unknown = set(fields) - known
    if unknown:
        raise RecordInvalid(sorted(unknown)[0], "is not a field of an address")
    return out


def _phone_items(phones: Mapping[str, str | None]) -> Iterator[PhoneNumber]:
    for key, label in PHONE_LABELS.items():
        if phones.get(key):
            yield PhoneNumber(label=label, phone_number=phones[key])


def _address_items(addresses: Mapping[str, Mapping[str, str | None]]) -> Iterator[PhysicalAddress]:
    for key, label in ADDRESS_LABELS.items():
        parts = addresses.get(key)
        if parts:
            yield PhysicalAddress(
                label=label,
                street=parts.get("street"),
                city=parts.get("city"),
                state=parts.get("state"),
                country=parts.get("country"),
                zipcode=parts.get("postal_code"),
            )


def to_exchange(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Normalized address fields -> exchangelib Contact attribute values (``None`` clears a field)."""
    emails = [EmailAddress(email=e, label=f"EmailAddress{i + 1}") for i, e in enumerate(fields["emails"])]
    phones = list(_phone_items(fields["phones"]))
    addresses = list(_address_items(fields["addresses"]))
    birthday = fields["birthday"]
    return {
        "display_name": fields["display_name"],
        "display_name_prefix": fields["title"],
        "given_name": fields["given_name"],
        "middle_name": fields["middle_name"],
        "surname": fields["surname"],
        "company_name": fields["company"],
        "department": fields["department"],
        "job_title": fields["job_title"],
        "email_addresses": emails or None,
        "phone_numbers": phones or None,
        "physical_addresses": addresses or None,
        "business_homepage": fields["web_page"],
        "birthday": EWSDate(birthday.year, birthday.month, birthday.day) if birthday else None,
        "categories": list(fields["categories"]) or None,
        "body": Body(fields["notes"]) if fields["notes"] else None,
    }


def to_erp(item: Any) -> dict[str, Any]:
    """An exchangelib Contact -> normalized address fields."""
    emails = sorted(item.email_addresses or (), key=lambda e: str(e.label))
    phones = {p.label: p.phone_number for p in item.phone_numbers or ()}
    addresses = {a.label: a for a in item.physical_addresses or ()}
    body = item.body
    notes = html_to_text(str(body)) if isinstance(body, HTMLBody) else (str(body) if body else None)
    return normalize(
        {
            "display_name": item.display_name,
            "title": item.display_name_prefix,
            "given_name": item.given_name,
            "middle_name": item.middle_name,
            "surname": item.surname,
            "company": item.company_name,
            "department": item.department,
            "job_title": item.job_title,
            "web_page": item.business_homepage,
            "emails": [e.email for e in emails if e.email],
            "phones": {key: phones.get(label) for key, label in PHONE_LABELS.items()},
            "addresses": {
                key: {
                    "street": a.street,
                    "city": a.city,
                    "state": a.state,
                    "postal_code": a.zipcode,
                    "country": a.country,
                }
                for key, label in ADDRESS_LABELS.items()
                if (a := addresses.get(label)) is not None
            },
            "birthday": item.birthday,
            "categories": list(item.categories or ()),
            "notes": notes,
        }
    )


def item_type() -> ItemType:
    """The contacts item type."""
    return ItemType(
        name="contacts",
        erp_entity="address",
        description="ERP addresses <-> Exchange contacts",
        backends={
            "ews": EwsMapping(
                "contacts",
                Contact,
                EWS_FIELDS,
                to_exchange,
                to_erp,
                # every field round-trips (tests/unit/test_contacts_mapping.py proves it for any record)
                stores_exactly=lambda fields: True,
            )
        },
        normalize=normalize,
    )


@hookimpl
def erp_exchange_item_types() -> Iterator[ItemType]:
    """The built-in contacts item type."""
    yield item_type()
