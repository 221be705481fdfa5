"""UpdateItem: Set/Append/DeleteItemField (plain, indexed and extended properties) with change keys.

ConflictResolution: ``NeverOverwrite`` fails on any stale ChangeKey; ``AutoResolve`` (exchangelib's default)
fails only if a property being set was changed after the version the ChangeKey names; ``AlwaysOverwrite``
never fails. Failures are ``ErrorIrresolvableConflict``; an unreadable ChangeKey is ``ErrorInvalidChangeKey``.
Changing only ``message:IsRead`` is recorded as a read-flag change for SyncFolderItems.
"""

from __future__ import annotations

import copy

from lxml import etree  # type: ignore[import-untyped]

from ..ids import change_key_version
from ..items import (
    FieldPath,
    ItemError,
    apply_change,
    field_key,
    format_datetime,
    parse_path,
    refresh_derived,
)
from ..recurrence import occurrence_item, store_exception
from ..soap import error_message, local, m, response_root, success_message, t
from ..store import Item
from .context import OperationContext, children, item_id_element

_CONFLICT = (
    "The send or update operation could not be performed because the change key passed in the request "
)
_CONFLICT += "does not match the current change key for the item."


def update_item(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """UpdateItem: one response message per ItemChange."""
    root, messages = response_root("UpdateItem")
    resolution = op.get("ConflictResolution", "AutoResolve")
    for change in children(op, "ItemChanges"):
        try:
            with ctx.store.lock:
                answer = _update_one(ctx, change, resolution)
        except ItemError as exc:
            error_message(messages, "UpdateItem", exc.code, exc.message)
            continue
        msg = success_message(messages, "UpdateItem")
        etree.SubElement(msg, m("Items")).append(answer)
        conflicts = etree.SubElement(msg, m("ConflictResults"))
        etree.SubElement(conflicts, t("Count")).text = "0"
    return root


def _update_one(ctx: OperationContext, change: etree._Element, resolution: str) -> etree._Element:
    """Apply one ItemChange (to an item, or to one occurrence of a series); return the answer's item id."""
    item_el = next((c for c in change if local(c.tag) in ("ItemId", "OccurrenceItemId")), None)
    if item_el is None:
        raise ItemError("ErrorInvalidIdEmpty", "ItemChange without an ItemId.")
    _mailbox, folder, master, occurrence = ctx.item_or_occurrence(item_el)
    updates_el = change.find(t("Updates"))
    updates = [u for u in (updates_el if updates_el is not None else []) if isinstance(u.tag, str)]
    _check_change_key(item_el.get("ChangeKey"), resolution, master, updates)
    if occurrence is not None and any(_path(u).kind != "field" for u in updates):
        raise ItemError(
            "ErrorInvalidOperation", "The EWS emulator only sets plain properties on occurrences."
        )
    item = master if occurrence is None else occurrence_item(master, occurrence)
    saved_props, saved_ext = copy.deepcopy(item.props), copy.deepcopy(item.extended)
    touched: list[str] = []
    try:
        for update in updates:
            touched.append(field_key(apply_change(ctx.model, item, update)))
    except ItemError:
        item.props, item.extended = saved_props, saved_ext
        raise
    if occurrence is not None:
        store_exception(master, occurrence, item, touched)
        touched = ["ModifiedOccurrences"]
    content = any(k != "IsRead" for k in touched)
    if content:
        stamp = etree.Element(t("LastModifiedTime"))
        stamp.text = format_datetime(ctx.now())
        master.props["LastModifiedTime"] = stamp
    refresh_derived(master, touched)
    ctx.store.touch(folder, master, touched, content=content)
    answer = item_id_element(master)
    if occurrence is not None:
        answer[0].set("Id", occurrence_item(master, occurrence).item_id)
    return answer


def _path(update: etree._Element) -> FieldPath:
    path_el = next((c for c in update if local(c.tag).endswith("FieldURI")), None)
    if path_el is None:
        raise ItemError("ErrorInvalidPropertySet", "An update without a property path.")
    return parse_path(path_el)


def _check_change_key(key: str | None, resolution: str, item: Item, updates: list[etree._Element]) -> None:
    if key is None or resolution == "AlwaysOverwrite":
        return
    version = change_key_version(key)
    if version is None:
        raise ItemError("ErrorInvalidChangeKey", "The change key is invalid.")
    if version == item.version:
        return
    if resolution == "NeverOverwrite":
        raise ItemError("ErrorIrresolvableConflict", _CONFLICT)
    for update in updates:
        path_el = next((c for c in update if local(c.tag).endswith("FieldURI")), None)
        if path_el is None:
            continue
        if item.field_versions.get(field_key(parse_path(path_el)), 0) > version:
            raise ItemError("ErrorIrresolvableConflict", _CONFLICT)
