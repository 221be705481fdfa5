"""Item properties on the wire: field paths, shapes, storing, rendering and updating items.

* :class:`FieldPath` is a parsed ``t:FieldURI`` / ``t:IndexedFieldURI`` / ``t:ExtendedFieldURI``.
* :func:`build_item` turns a ``t:Contact``/``t:CalendarItem``/``t:Task``/``t:Message`` element from CreateItem
  into a store :class:`~.store.Item`, normalising values by their schema type (``0``/``1`` become
  ``false``/``true``, date-times become second-precision UTC ``Z``) and adding what the server sets
  (ItemClass, timestamps, UID, Organizer, Status ...).
* :func:`render_item` renders an item for a response shape (IdOnly/Default/AllProperties plus
  AdditionalProperties, indexed sub-fields, extended properties echoed with the requester's ExtendedFieldURI)
  in schema order.
* :func:`apply_change` applies one ``SetItemField``/``AppendToItemField``/``DeleteItemField``.
* :func:`values_of` and :func:`value_kind` give restrictions and sort orders the typed values of a path.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import functools
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree  # type: ignore[import-untyped]

from . import ids, mime, recurrence
from .schema import EwsSchema
from .soap import local, t
from .store import Attachment, Folder, Item

KIND_TYPES = {
    "Item": "ItemType",
    "Message": "MessageType",
    "Contact": "ContactItemType",
    "CalendarItem": "CalendarItemType",
    "Task": "TaskType",
    "PostItem": "PostItemType",
    "DistributionList": "DistributionListType",
}
ITEM_CLASSES = {
    "Message": "IPM.Note",
    "Contact": "IPM.Contact",
    "CalendarItem": "IPM.Appointment",
    "Task": "IPM.Task",
    "PostItem": "IPM.Post",
    "DistributionList": "IPM.DistList",
    "Item": "IPM",
}
#: Indexed FieldURI -> dictionary element of the item.
INDEXED_CONTAINERS = {
    "contacts:EmailAddress": "EmailAddresses",
    "contacts:PhoneNumber": "PhoneNumbers",
    "contacts:ImAddress": "ImAddresses",
    "contacts:PhysicalAddress": "PhysicalAddresses",
}
#: Properties the server owns; a client cannot set them.
SERVER_OWNED = frozenset(
    {
        "ItemId",
        "ParentFolderId",
        "DateTimeCreated",
        "LastModifiedTime",
        "Size",
        "HasAttachments",
        "IsAssociated",
        "EffectiveRights",
        "ConversationId",
        "LastModifiedName",
        "IsComplete",
        "CalendarItemType",
        "Organizer",
        "TextBody",
        "FirstOccurrence",
        "LastOccurrence",
        "ModifiedOccurrences",
        "DeletedOccurrences",
        "OriginalStart",
    }
)
#: What the Default shape returns besides ItemId (a compact version of Exchange's default shapes).
DEFAULT_FIELDS = {
    "Contact": ("ParentFolderId", "ItemClass", "Subject", "DisplayName", "GivenName", "Surname",
                "CompanyName", "EmailAddresses", "PhoneNumbers", "PhysicalAddresses", "FileAs", "JobTitle",
                "LastModifiedTime", "DateTimeCreated", "HasAttachments"),
    "CalendarItem": ("ParentFolderId", "ItemClass", "Subject", "Start", "End", "IsAllDayEvent", "Location",
                     "LegacyFreeBusyStatus", "CalendarItemType", "Organizer", "LastModifiedTime",
                     "HasAttachments"),
    "Task": ("ParentFolderId", "ItemClass", "Subject", "Status", "PercentComplete", "DueDate", "StartDate",
             "IsComplete", "LastModifiedTime", "HasAttachments"),
    "Message": ("ParentFolderId", "ItemClass", "Subject", "From", "ToRecipients", "IsRead",
                "DateTimeReceived", "DateTimeSent", "Size", "HasAttachments", "InternetMessageId"),
}  # fmt: skip
EXTENDED_KINDS = {
    "Boolean": "boolean",
    "SystemTime": "dateTime",
    "Integer": "number",
    "Long": "number",
    "Short": "number",
    "Double": "number",
    "Float": "number",
    "Currency": "number",
    "ApplicationTime": "number",
}


class ItemError(Exception):
    """A per-item EWS error: ``code`` is the ResponseCode (e.g. ErrorInvalidPropertySet)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FieldPath:
    """A property path: ``kind`` is 'field', 'indexed' or 'extended'; ``name`` the element/container/key."""

    kind: str
    uri: str
    name: str
    index: str | None = None
    sub: str | None = None
    element: etree._Element | None = field(default=None, compare=False, hash=False)


def extended_key(uri: etree._Element) -> str:
    """A canonical key for an ExtendedFieldURI (set ids lower-cased, tags as integers)."""
    tag = uri.get("PropertyTag")
    if tag is not None:
        tag = str(int(tag, 16) if tag.lower().startswith("0x") else int(tag))
    parts = (
        uri.get("DistinguishedPropertySetId") or "",
        (uri.get("PropertySetId") or "").lower(),
        tag or "",
        uri.get("PropertyName") or "",
        uri.get("PropertyId") or "",
        uri.get("PropertyType") or "",
    )
    return "ext|" + "|".join(parts)


def parse_path(el: etree._Element) -> FieldPath:
    """Parse a FieldURI, IndexedFieldURI or ExtendedFieldURI element."""
    name = local(el.tag)
    if name == "ExtendedFieldURI":
        return FieldPath("extended", "", extended_key(el), element=el)
    uri = el.get("FieldURI", "")
    if name == "IndexedFieldURI":
        _, _, sub = uri.partition(":PhysicalAddress:")
        if sub:
            return FieldPath("indexed", uri, "PhysicalAddresses", el.get("FieldIndex"), sub, el)
        container = INDEXED_CONTAINERS.get(uri)
        if container is None:
            raise ItemError("ErrorInvalidIndexedPagingParameters", f"Unknown indexed property {uri}.")
        return FieldPath("indexed", uri, container, el.get("FieldIndex"), None, el)
    return FieldPath("field", uri, uri.rsplit(":", 1)[-1], element=el)


@dataclass
class Selection:
    """AdditionalProperties sorted by kind: element names, indexed entries (container -> key -> sub-fields,
    None for the whole entry) and extended-property paths."""

    names: set[str] = field(default_factory=set)
    indexed: dict[str, dict[str, set[str] | None]] = field(default_factory=dict)
    extended: list[FieldPath] = field(default_factory=list)


@dataclass
class Shape:
    """An ItemShape: base shape plus additional properties (sorted once per request in ``selection``)."""

    base: str = "IdOnly"
    additional: list[FieldPath] = field(default_factory=list)

    @functools.cached_property
    def selection(self) -> Selection:
        """The additional properties, sorted by kind."""
        chosen = Selection()
        for path in self.additional:
            if path.kind == "field":
                chosen.names.add(path.name)
            elif path.kind == "indexed":
                entries = chosen.indexed.setdefault(path.name, {})
                if path.index is not None:
                    subs = entries.setdefault(path.index, set() if path.sub else None)
                    if subs is not None and path.sub:
                        subs.add(path.sub)
            else:
                chosen.extended.append(path)
        return chosen


#: What AllProperties returns beyond the stored properties.
ALL_PROPERTIES_COMPUTED = (
    "ParentFolderId",
    "TextBody",
    "Attachments",
    "FirstOccurrence",
    "LastOccurrence",
    "DeletedOccurrences",
)


def parse_shape(el: etree._Element | None) -> Shape:
    """Parse ``m:ItemShape``."""
    if el is None:
        return Shape()
    base = el.findtext(t("BaseShape")) or "IdOnly"
    additional = el.find(t("AdditionalProperties"))
    paths = [parse_path(p) for p in additional] if additional is not None else []
    return Shape(base, paths)


# -- values -------------------------------------------------------------------------------------------------


def format_datetime(value: dt.datetime) -> str:
    """EWS date-time: UTC, second precision, ``Z``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> dt.datetime:
    """Parse an xs:dateTime (naive values are taken as UTC)."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse_bool(text: str) -> bool:
    """xs:boolean: 1/0/true/false."""
    return text.strip().lower() in ("1", "true")


def _normalise(el: etree._Element, kind: str) -> None:
    if el.text is None or len(el):
        return
    if kind == "boolean":
        el.text = "true" if parse_bool(el.text) else "false"
    elif kind == "dateTime":
        try:
            el.text = format_datetime(parse_datetime(el.text))
        except ValueError:
            raise ItemError("ErrorInvalidValueForProperty", f"Invalid date-time {el.text!r}.") from None


class ItemModel:
    """Schema-driven knowledge about item kinds: property order and types."""

    def __init__(self, schema: EwsSchema) -> None:
        self.schema = schema
        self._types: dict[str, dict[str, str]] = {}
        self._order: dict[str, list[str]] = {}
        for kind, type_name in KIND_TYPES.items():
            children = schema.children(type_name)
            self._order[kind] = [c.name for c in children]
            self._types[kind] = {c.name: schema.base_kind(c.type_name) for c in children}
        self._address_order = [c.name for c in schema.children("PhysicalAddressDictionaryEntryType")]
        self._attachment_order = [c.name for c in schema.children("FileAttachmentType")]

    def knows(self, kind: str) -> bool:
        """Whether ``kind`` is an item element the emulator stores."""
        return kind in self._order

    def type_of(self, kind: str, name: str) -> str | None:
        """Base kind ('boolean', 'dateTime', 'string', 'int', 'complex') of a property, None if unknown."""
        return self._types.get(kind, {}).get(name)

    def normalised(self, kind: str, el: etree._Element) -> etree._Element:
        """A copy of a property element with its value normalised for responses."""
        copy_el = copy.deepcopy(el)
        _normalise(copy_el, self._types[kind].get(local(el.tag), "string"))
        return copy_el

    def order(self, kind: str) -> list[str]:
        """Property names of ``kind`` in schema order."""
        return self._order[kind]

    def attachment_order(self) -> list[str]:
        """Child elements of a file attachment in schema order."""
        return self._attachment_order

    def address_order(self) -> list[str]:
        """Sub-fields of a physical address entry in schema order."""
        return self._address_order


def _simple(name: str, text: str) -> etree._Element:
    el = etree.Element(t(name))
    el.text = text
    return el


def _mailbox(name: str, address: str) -> etree._Element:
    el = etree.Element(t(name))
    mb = etree.SubElement(el, t("Mailbox"))
    etree.SubElement(mb, t("Name")).text = address
    etree.SubElement(mb, t("EmailAddress")).text = address
    etree.SubElement(mb, t("RoutingType")).text = "SMTP"
    return el


def build_item(
    model: ItemModel,
    element: etree._Element,
    item_id: str,
    owner: str,
    now: dt.datetime,
    *,
    draft: bool = False,
) -> Item:
    """A new store item from a CreateItem item element (not yet inserted)."""
    kind = local(element.tag)
    if not model.knows(kind):
        raise ItemError("ErrorInvalidItemForOperation", f"Items of type {kind} cannot be created here.")
    item = Item(item_id=item_id, kind=kind)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = local(child.tag)
        if name == "ExtendedProperty":
            uri = child.find(t("ExtendedFieldURI"))
            if uri is None:
                raise ItemError("ErrorInvalidExtendedProperty", "ExtendedProperty without ExtendedFieldURI.")
            item.extended[extended_key(uri)] = copy.deepcopy(child)
        elif name == "MimeContent":
            try:
                item.mime = base64.b64decode(child.text or "", validate=True)
            except (binascii.Error, ValueError):
                raise ItemError("ErrorMimeContentInvalid", "MimeContent is not valid base64.") from None
        elif name in SERVER_OWNED:
            continue
        elif model.type_of(kind, name) is None:
            raise ItemError("ErrorInvalidPropertySet", f"{name} is not a property of {kind}.")
        else:
            item.props[name] = model.normalised(kind, child)
    stamp = format_datetime(now)
    if item.mime is not None and kind == "Message":
        for name, el in mime.props_from_mime(item.mime).items():
            item.props.setdefault(name, el)
        item.attachments = mime.attachments_from_mime(item.mime, stamp)
    item.props.setdefault("ItemClass", _simple("ItemClass", ITEM_CLASSES.get(kind, "IPM")))
    item.props["DateTimeCreated"] = _simple("DateTimeCreated", stamp)
    item.props.setdefault("DateTimeReceived", _simple("DateTimeReceived", stamp))
    item.props["LastModifiedTime"] = _simple("LastModifiedTime", stamp)
    if kind == "CalendarItem":
        item.props.setdefault("UID", _simple("UID", uuid.uuid4().hex.upper()))
        item.props.setdefault("IsAllDayEvent", _simple("IsAllDayEvent", "false"))
        item.props.setdefault("LegacyFreeBusyStatus", _simple("LegacyFreeBusyStatus", "Busy"))
        item.props["Organizer"] = _mailbox("Organizer", owner)
    elif kind == "Task":
        item.props.setdefault("Status", _simple("Status", "NotStarted"))
        item.props.setdefault("PercentComplete", _simple("PercentComplete", "0"))
    elif kind == "Message":
        item.props.setdefault("IsRead", _simple("IsRead", "false"))
        item.props.setdefault("IsDraft", _simple("IsDraft", "true" if draft else "false"))
    refresh_derived(item, [local(c.tag) for c in element if isinstance(c.tag, str)])
    return item


def apply_task_rules(item: Item, changed: Iterable[str]) -> None:
    """Exchange's task consistency rules, applied per property in the order the request set them.

    Microsoft's reference for Status/PercentComplete: setting Status to Completed is the same as
    setting PercentComplete to 100; Status NotStarted resets PercentComplete to 0; PercentComplete
    100 makes the Status Completed; when a request sets several, the last one processed wins.
    """
    for name in changed:
        if name == "Status" and item.text("Status") == "Completed":
            item.props["PercentComplete"] = _simple("PercentComplete", "100")
        elif name == "Status" and item.text("Status") == "NotStarted":
            item.props["PercentComplete"] = _simple("PercentComplete", "0")
        elif name == "PercentComplete" and _percent(item.text("PercentComplete")) == 100:
            item.props["Status"] = _simple("Status", "Completed")


def _percent(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def refresh_derived(item: Item, changed: Iterable[str] = ()) -> None:
    """Recompute the properties that follow from others (task rules for ``changed``, CalendarItemType,
    IsComplete, HasAttachments, Size)."""
    if item.kind == "Task":
        apply_task_rules(item, changed)
    has_files = any(not a.is_inline for a in item.attachments)
    item.props["HasAttachments"] = _simple("HasAttachments", "true" if has_files else "false")
    if item.kind == "CalendarItem":
        recurring = "Recurrence" in item.props
        item.props["CalendarItemType"] = _simple(
            "CalendarItemType", "RecurringMaster" if recurring else "Single"
        )
    elif item.kind == "Task":
        item.props["IsComplete"] = _simple(
            "IsComplete", "true" if item.text("Status") == "Completed" else "false"
        )
    size = sum(len(etree.tostring(el)) for el in item.props.values()) + len(item.mime or b"")
    size += sum(len(a.content) for a in item.attachments)
    item.props["Size"] = _simple("Size", str(size))


# -- rendering ----------------------------------------------------------------------------------------------


#: What FindItem never returns ("any of the message body formats or the recipient lists", EWS docs).
NOT_IN_FIND = frozenset(
    {
        "MimeContent",
        "Body",
        "TextBody",
        "UniqueBody",
        "NormalizedBody",
        "Attachments",
        "ToRecipients",
        "CcRecipients",
        "BccRecipients",
        "ReplyTo",
        "RequiredAttendees",
        "OptionalAttendees",
        "Resources",
    }
)
#: Single recipients that FindItem returns with the display name only.
NAME_ONLY_IN_FIND = frozenset({"From", "Sender", "Organizer", "ReceivedBy", "ReceivedRepresenting"})


def _name_only(el: etree._Element) -> etree._Element:
    out = etree.Element(el.tag)
    mailbox = etree.SubElement(out, t("Mailbox"))
    name = el.findtext(f"{t('Mailbox')}/{t('Name')}") or el.findtext(f"{t('Mailbox')}/{t('EmailAddress')}")
    etree.SubElement(mailbox, t("Name")).text = name or ""
    return out


def render_item(
    model: ItemModel, item: Item, folder: Folder, shape: Shape, *, for_find: bool = False
) -> etree._Element:
    """The item element for a response, in schema order, with what the shape asks for.

    ``for_find`` applies FindItem's limits: no bodies, MIME, attachments or recipient lists, and single
    recipients with their display name only.
    """
    names = {"ItemId", *shape.selection.names}
    indexed, extended = shape.selection.indexed, shape.selection.extended
    if shape.base == "Default":
        names.update(DEFAULT_FIELDS.get(item.kind, ("ParentFolderId", "ItemClass", "Subject")))
    elif shape.base == "AllProperties":
        names.update(item.props)
        names.update(ALL_PROPERTIES_COMPUTED)
    if for_find:
        names -= NOT_IN_FIND
    props = item.props
    if item.kind == "CalendarItem" and "Recurrence" in props:
        props = {**props, **recurrence.series_props(item)}
    out = etree.Element(t(item.kind))
    for name in model.order(item.kind):
        if name == "ItemId":
            iid = etree.SubElement(out, t("ItemId"))
            iid.set("Id", item.item_id)
            iid.set("ChangeKey", item.change_key)
        elif name == "ParentFolderId":
            if name in names:
                pid = etree.SubElement(out, t("ParentFolderId"))
                pid.set("Id", folder.folder_id)
                pid.set("ChangeKey", folder.change_key)
        elif name == "MimeContent":
            if name in names:
                raw = item.mime if item.mime is not None else mime.mime_from_item(item)
                if raw is not None:
                    mc = etree.SubElement(out, t("MimeContent"))
                    mc.set("CharacterSet", "UTF-8")
                    mc.text = base64.b64encode(raw).decode()
        elif name == "Attachments":
            if name in names and item.attachments:
                container = etree.SubElement(out, t("Attachments"))
                for attachment in item.attachments:
                    container.append(render_attachment(model, item, attachment, with_content=False))
        elif name == "ExtendedProperty":
            for path in extended:
                stored = item.extended.get(path.name)
                if stored is not None and path.element is not None:
                    prop = etree.SubElement(out, t("ExtendedProperty"))
                    prop.append(copy.deepcopy(path.element))
                    for value in stored:
                        if local(value.tag) != "ExtendedFieldURI":
                            prop.append(copy.deepcopy(value))
        elif name == "TextBody":
            body = item.props.get("Body")
            if name in names and body is not None:
                text = body.text or ""
                if body.get("BodyType") == "HTML":
                    text = re.sub(r"<[^>]+>", "", text)
                tb = etree.SubElement(out, t("TextBody"))
                tb.set("BodyType", "Text")
                tb.text = text
        elif name in props:
            if name in names:
                value = props[name]
                out.append(
                    _name_only(value) if for_find and name in NAME_ONLY_IN_FIND else copy.deepcopy(value)
                )
            elif name in indexed:
                container = _filtered_container(model, props[name], indexed[name])
                if container is not None:
                    out.append(container)
    return out


def render_attachment(
    model: ItemModel, item: Item, attachment: Attachment, *, with_content: bool
) -> etree._Element:
    """A ``t:FileAttachment`` in schema order (``Content`` only for GetAttachment)."""
    values = {
        "Name": attachment.name,
        "ContentType": attachment.content_type,
        "ContentId": attachment.content_id,
        "Size": str(len(attachment.content)),
        "LastModifiedTime": attachment.last_modified or None,
        "IsInline": "true" if attachment.is_inline else "false",
        "IsContactPhoto": "false",
        "Content": base64.b64encode(attachment.content).decode() if with_content else None,
    }
    out = etree.Element(t("FileAttachment"))
    for name in model.attachment_order():
        if name == "AttachmentId":
            aid = etree.SubElement(out, t("AttachmentId"))
            aid.set("Id", ids.attachment_id(item.item_id, attachment.key))
        elif values.get(name) is not None:
            etree.SubElement(out, t(name)).text = values[name]
    return out


def _filtered_container(
    model: ItemModel, stored: etree._Element, wanted: dict[str, set[str] | None]
) -> etree._Element | None:
    out = etree.Element(stored.tag)
    for entry in stored:
        key = entry.get("Key", "")
        if key not in wanted:
            continue
        subs = wanted[key]
        if subs is None:
            out.append(copy.deepcopy(entry))
            continue
        new = etree.SubElement(out, entry.tag)
        new.set("Key", key)
        for sub in entry:
            if local(sub.tag) in subs:
                new.append(copy.deepcopy(sub))
        if len(new) == 0:
            out.remove(new)
    return out if len(out) else None


# -- updates ------------------------------------------------------------------------------------------------


def field_key(path: FieldPath) -> str:
    """The key under which per-field versions are kept (for AutoResolve conflict detection)."""
    return path.name


def apply_change(model: ItemModel, item: Item, change: etree._Element) -> FieldPath:
    """Apply one Set/Append/DeleteItemField to ``item``; return the path it touched."""
    op = local(change.tag)
    path_el = next((c for c in change if local(c.tag).endswith("FieldURI")), None)
    if path_el is None:
        raise ItemError("ErrorInvalidPropertySet", f"{op} without a property path.")
    path = parse_path(path_el)
    if path.kind == "field" and (path.name in SERVER_OWNED or model.type_of(item.kind, path.name) is None):
        raise ItemError("ErrorInvalidPropertySet", f"The property {path.uri} cannot be set on {item.kind}.")
    if op == "DeleteItemField":
        _delete(item, path)
        return path
    holder = next((c for c in change if not local(c.tag).endswith("FieldURI")), None)
    if holder is None:
        raise ItemError("ErrorIncorrectUpdatePropertyCount", "The update has no item element with the value.")
    if path.kind == "extended":
        value = holder.find(t("ExtendedProperty"))
        if value is None:
            raise ItemError("ErrorIncorrectUpdatePropertyCount", "The item element has no ExtendedProperty.")
        item.extended[path.name] = copy.deepcopy(value)
        return path
    if path.kind == "indexed":
        container = holder.find(t(path.name))
        entry = container.find(t("Entry")) if container is not None else None
        if entry is None or path.index is None:
            raise ItemError("ErrorIncorrectUpdatePropertyCount", f"No {path.name} entry in the update.")
        _set_indexed(model, item, path, entry)
        return path
    value_el = holder.find(t(path.name))
    if value_el is None:
        raise ItemError("ErrorIncorrectUpdatePropertyCount", f"The item element has no {path.name}.")
    new = model.normalised(item.kind, value_el)
    if op == "AppendToItemField" and path.name in item.props:
        old = copy.deepcopy(item.props[path.name])  # elements may be shared with a series' occurrences
        if len(new):
            old.extend(list(new))
        else:
            old.text = (old.text or "") + (new.text or "")
        new = old
    item.props[path.name] = new
    return path


def _delete(item: Item, path: FieldPath) -> None:
    if path.kind == "extended":
        item.extended.pop(path.name, None)
        return
    if path.kind == "field":
        item.props.pop(path.name, None)
        return
    stored = item.props.get(path.name)
    if stored is None:
        return
    container = copy.deepcopy(stored)
    item.props[path.name] = container
    for entry in list(container):
        if entry.get("Key") != path.index:
            continue
        if path.sub is None:
            container.remove(entry)
        else:
            for sub in list(entry):
                if local(sub.tag) == path.sub:
                    entry.remove(sub)
            if len(entry) == 0:
                container.remove(entry)
    if len(container) == 0:
        del item.props[path.name]


def _set_indexed(model: ItemModel, item: Item, path: FieldPath, entry: etree._Element) -> None:
    stored = item.props.get(path.name)
    container = copy.deepcopy(stored) if stored is not None else etree.Element(t(path.name))
    item.props[path.name] = container
    existing = next((e for e in container if e.get("Key") == path.index), None)
    if path.sub is None or existing is None:
        if existing is not None:
            container.replace(existing, copy.deepcopy(entry))
        else:
            container.append(copy.deepcopy(entry))
        return
    order = model.address_order()
    subs = {local(s.tag): s for s in existing}
    for s in entry:
        subs[local(s.tag)] = copy.deepcopy(s)
    for s in list(existing):
        existing.remove(s)
    for name in order:
        if name in subs:
            existing.append(subs[name])


# -- values for restrictions and sorting --------------------------------------------------------------------


def values_of(item: Item, folder: Folder, path: FieldPath) -> list[str] | None:
    """The textual values of a path on an item (None when the property is absent)."""
    if path.kind == "extended":
        prop = item.extended.get(path.name)
        if prop is None:
            return None
        single = prop.find(t("Value"))
        if single is not None:
            return [single.text or ""]
        return [v.text or "" for v in prop.iterfind(f"{t('Values')}/{t('Value')}")]
    if path.kind == "indexed":
        container = item.props.get(path.name)
        if container is None:
            return None
        for entry in container:
            if entry.get("Key") == path.index:
                if path.sub is None:
                    return [entry.text or ""]
                sub = entry.find(t(path.sub))
                return None if sub is None else [sub.text or ""]
        return None
    if path.name == "ItemId":
        return [item.item_id]
    if path.name == "ParentFolderId":
        return [folder.folder_id]
    el = item.props.get(path.name)
    if el is None:
        return None
    if len(el) == 0:
        return [el.text or ""]
    return [(leaf.text or "") for leaf in el.iter() if len(leaf) == 0 and leaf.text]


def value_kind(model: ItemModel, kinds: Iterable[str], path: FieldPath) -> str:
    """How values of ``path`` compare: 'boolean', 'dateTime', 'number' or 'string'."""
    if path.kind == "extended":
        ptype = path.element.get("PropertyType", "String") if path.element is not None else "String"
        return EXTENDED_KINDS.get(ptype, "string")
    if path.kind == "indexed":
        return "string"
    for kind in kinds:
        found = model.type_of(kind, path.name)
        if found is not None:
            return "number" if found == "int" else found if found in ("boolean", "dateTime") else "string"
    return "string"
