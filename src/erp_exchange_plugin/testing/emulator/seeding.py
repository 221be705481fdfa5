"""Seeding and "user edits in Outlook": build items from plain Python values and change them behind the
client's back, exactly as if the mailbox owner had used Outlook (new change keys, SyncFolderItems sees them).

Field values: ``str`` (text), ``bool``, ``int``, ``datetime`` (stored as UTC), a ``dict`` for dictionary
properties (``{"EmailAddress1": "a@b"}``, ``{"Business": {"City": "Berlin"}}``), a ``list`` of addresses for
recipient properties (``ToRecipients``, ``From``) or of strings (``Categories``). ``Body`` takes text.
Anything else can be given as EWS XML: a string starting with ``<`` in which ``t:`` is the types namespace
(``{"Recurrence": "<t:Recurrence><t:DailyRecurrence>...</t:Recurrence>"}``), or an lxml element.
Extended properties are keyed ``"{property-set-guid}:{name}:{type}"``.

A recurring master's exceptions, as Outlook leaves them after a user moved or deleted single
occurrences: ``ModifiedOccurrences`` takes ``(original_start, start, end)`` tuples and
``DeletedOccurrences`` the original starts (datetimes); the emulator does not expand series, so
the caller names the occurrences.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from .items import ItemModel, format_datetime, refresh_derived
from .soap import T_NS, local, t
from .store import Folder, Item

_RECIPIENT_LISTS = {"ToRecipients", "CcRecipients", "BccRecipients", "ReplyTo", "RequiredAttendees"}
_SINGLE_RECIPIENTS = {"From", "Sender"}


@dataclass
class ItemView:
    """A read-only snapshot of an item for tests and the admin API."""

    item_id: str
    change_key: str
    kind: str
    folder: str
    fields: dict[str, Any] = field(default_factory=dict)
    extended: dict[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return format_datetime(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    return str(value)


def _occurrence_id(original: dt.datetime) -> str:
    return base64.b64encode(f"occurrence:{_text(original)}".encode()).decode()


def _mailbox_el(parent: etree._Element, address: str) -> None:
    mb = etree.SubElement(parent, t("Mailbox"))
    etree.SubElement(mb, t("EmailAddress")).text = address
    etree.SubElement(mb, t("RoutingType")).text = "SMTP"


def value_element(model: ItemModel, name: str, value: Any) -> etree._Element:
    """The property element ``name`` for a Python value."""
    if isinstance(value, etree._Element):
        return copy.deepcopy(value)
    if isinstance(value, str) and value.lstrip().startswith("<"):
        return etree.fromstring(f'<wrapper xmlns:t="{T_NS}">{value}</wrapper>')[0]
    el = etree.Element(t(name))
    if name == "Body":
        el.set("BodyType", "Text")
        el.text = str(value)
    elif name in _RECIPIENT_LISTS:
        for address in value:
            _mailbox_el(etree.SubElement(el, t("Attendee")) if name == "RequiredAttendees" else el, address)
    elif name == "ModifiedOccurrences":
        for original, start, end in value:
            occurrence = etree.SubElement(el, t("Occurrence"))
            etree.SubElement(occurrence, t("ItemId")).set("Id", _occurrence_id(original))
            for part, moment in (("Start", start), ("End", end), ("OriginalStart", original)):
                etree.SubElement(occurrence, t(part)).text = _text(moment)
    elif name == "DeletedOccurrences":
        for original in value:
            etree.SubElement(etree.SubElement(el, t("DeletedOccurrence")), t("Start")).text = _text(original)
    elif name in _SINGLE_RECIPIENTS:
        _mailbox_el(el, value[0] if isinstance(value, list) else value)
    elif isinstance(value, Mapping):
        order = model.address_order()
        for key, entry_value in value.items():
            entry = etree.SubElement(el, t("Entry"))
            entry.set("Key", key)
            if isinstance(entry_value, Mapping):
                for sub in order:
                    if sub in entry_value:
                        etree.SubElement(entry, t(sub)).text = _text(entry_value[sub])
            else:
                entry.text = _text(entry_value)
    elif isinstance(value, list):
        for text in value:
            etree.SubElement(el, t("String")).text = _text(text)
    else:
        el.text = _text(value)
    return el


def extended_element(key: str, value: Any) -> etree._Element:
    """An ExtendedProperty for ``"{set-id}:{name}:{type}"``."""
    set_id, name, ptype = key.split(":")
    prop = etree.Element(t("ExtendedProperty"))
    uri = etree.SubElement(prop, t("ExtendedFieldURI"))
    uri.set("PropertySetId", set_id.lower())
    uri.set("PropertyName", name)
    uri.set("PropertyType", ptype)
    if isinstance(value, list):
        values = etree.SubElement(prop, t("Values"))
        for v in value:
            etree.SubElement(values, t("Value")).text = _text(v)
    else:
        etree.SubElement(prop, t("Value")).text = _text(value)
    return prop


def item_element(
    model: ItemModel, kind: str, fields: Mapping[str, Any], extended: Mapping[str, Any] | None = None
) -> etree._Element:
    """A CreateItem-style item element, children in schema order."""
    order = {name: i for i, name in enumerate(model.order(kind))}
    children = [value_element(model, name, value) for name, value in fields.items()]
    children += [extended_element(k, v) for k, v in (extended or {}).items()]
    children.sort(key=lambda c: order.get(local(c.tag), 10_000))
    el = etree.Element(t(kind))
    el.extend(children)
    return el


def edit(
    model: ItemModel,
    item: Item,
    fields: Mapping[str, Any],
    extended: Mapping[str, Any] | None,
    now: dt.datetime,
) -> list[str]:
    """Apply a user's edit in place (``None`` deletes a property); return the changed property keys."""
    from .items import extended_key

    touched: list[str] = []
    for name, value in fields.items():
        if value is None:
            item.props.pop(name, None)
        else:
            item.props[name] = model.normalised(item.kind, value_element(model, name, value))
        touched.append(name)
    for key, value in (extended or {}).items():
        prop = extended_element(key, value if value is not None else "")
        uri = prop[0]
        ext_key = extended_key(uri)
        if value is None:
            item.extended.pop(ext_key, None)
        else:
            item.extended[ext_key] = prop
        touched.append(ext_key)
    if any(k != "IsRead" for k in touched):
        stamp = etree.Element(t("LastModifiedTime"))
        stamp.text = format_datetime(now)
        item.props["LastModifiedTime"] = stamp
    refresh_derived(item, touched)
    return touched


def view(item: Item, folder: Folder) -> ItemView:
    """A snapshot of an item."""
    fields: dict[str, Any] = {}
    for name, el in item.props.items():
        if len(el) == 0:
            fields[name] = el.text or ""
        elif all(local(c.tag) == "Entry" for c in el):
            fields[name] = {
                c.get("Key", ""): (c.text or "") if len(c) == 0 else {local(s.tag): s.text or "" for s in c}
                for c in el
            }
        else:
            fields[name] = [leaf.text for leaf in el.iter() if len(leaf) == 0 and leaf.text]
    extended: dict[str, Any] = {}
    for prop in item.extended.values():
        uri = prop.find(t("ExtendedFieldURI"))
        assert uri is not None
        set_id = uri.get("PropertySetId") or uri.get("DistinguishedPropertySetId") or uri.get("PropertyTag")
        name = uri.get("PropertyName") or uri.get("PropertyId")
        key = ":".join((set_id or "", name or "", uri.get("PropertyType") or ""))
        single = prop.find(t("Value"))
        extended[key] = single.text if single is not None else [v.text for v in prop.iter(t("Value"))]
    return ItemView(
        item.item_id, item.change_key, item.kind, folder.distinguished or folder.folder_id, fields, extended
    )
