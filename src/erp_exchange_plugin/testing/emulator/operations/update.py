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
from ..items import ItemError, apply_change, field_key, format_datetime, parse_path, refresh_derived
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
                item_el = change.find(t("ItemId"))
                if item_el is None:
                    raise ItemError("ErrorInvalidIdEmpty", "ItemChange without an ItemId.")
                _mailbox, folder, item = ctx.item(item_el)
                updates_el = change.find(t("Updates"))
                updates = [
                    u for u in (updates_el if updates_el is not None else []) if isinstance(u.tag, str)
                ]
                _check_change_key(item_el.get("ChangeKey"), resolution, item, updates)
                saved_props, saved_ext = copy.deepcopy(item.props), copy.deepcopy(item.extended)
                touched: list[str] = []
                try:
                    for update in updates:
                        touched.append(field_key(apply_change(ctx.model, item, update)))
                except ItemError:
                    item.props, item.extended = saved_props, saved_ext
                    raise
                content = any(k != "IsRead" for k in touched)
                if content:
                    stamp = etree.Element(t("LastModifiedTime"))
                    stamp.text = format_datetime(ctx.now())
                    item.props["LastModifiedTime"] = stamp
                refresh_derived(item, touched)
                ctx.store.touch(folder, item, touched, content=content)
        except ItemError as exc:
            error_message(messages, "UpdateItem", exc.code, exc.message)
            continue
        msg = success_message(messages, "UpdateItem")
        etree.SubElement(msg, m("Items")).append(item_id_element(item))
        conflicts = etree.SubElement(msg, m("ConflictResults"))
        etree.SubElement(conflicts, t("Count")).text = "0"
    return root


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
