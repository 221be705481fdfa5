"""SyncFolderItems: per-folder opaque sync states, MaxChangesReturned paging, Ignore, and netted changes.

The SyncState names a watermark in the store's change sequence (and the folder's epoch, which
``invalidate_sync_state`` bumps). Changes after it are netted per item (see ``Folder.changes_since``) and
returned oldest first as Create / Update / Delete / ReadFlagChange. Every response message, errors included,
carries SyncState and IncludesLastItemInRange, because exchangelib reads them before the ResponseClass.
"""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]

from ..items import ItemError, parse_shape, render_item
from ..soap import error_message, m, response_root, success_message, t
from .context import OperationContext


def sync_folder_items(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """SyncFolderItems for one folder."""
    root, messages = response_root("SyncFolderItems")
    state_in = (op.findtext(m("SyncState")) or "").strip()
    try:
        with ctx.store.lock:
            msg = _sync(ctx, op, state_in)
    except ItemError as exc:
        msg = error_message(messages, "SyncFolderItems", exc.code, exc.message)
        etree.SubElement(msg, m("SyncState")).text = state_in or None
        etree.SubElement(msg, m("IncludesLastItemInRange")).text = "true"
        return root
    messages.append(msg)
    return root


def _sync(ctx: OperationContext, op: etree._Element, state_in: str) -> etree._Element:
    folder_el = op.find(m("SyncFolderId"))
    if folder_el is None or len(folder_el) == 0:
        raise ItemError("ErrorInvalidIdEmpty", "SyncFolderId is missing.")
    _mailbox, folder = ctx.folder(folder_el[0])
    watermark = 0
    if state_in:
        decoded = ctx.sync_codec.decode(state_in)
        if decoded is None or decoded[0] != folder.folder_id or decoded[2] != folder.epoch:
            raise ItemError(
                "ErrorInvalidSyncStateData", "Synchronization state data is corrupt or otherwise invalid."
            )
        watermark = decoded[1]
    ignore_el = op.find(m("Ignore"))
    ignored = {i.get("Id") for i in ignore_el} if ignore_el is not None else set()
    limit = int(op.findtext(m("MaxChangesReturned")) or "100")
    shape = parse_shape(op.find(m("ItemShape")))
    changes = folder.changes_since(watermark)
    out = etree.Element(m("Changes"))
    emitted, new_watermark, done = 0, max(watermark, folder.last_seq), True
    for index, change in enumerate(changes):
        if emitted == limit:
            new_watermark, done = changes[index - 1].seq, False
            break
        if change.kind is None or change.item_id in ignored:
            continue
        emitted += 1
        if change.kind == "delete":
            wrapper = etree.SubElement(out, t("Delete"))
            etree.SubElement(wrapper, t("ItemId")).set("Id", change.item_id)
            continue
        item = change.item
        assert item is not None
        if change.kind == "read_flag":
            wrapper = etree.SubElement(out, t("ReadFlagChange"))
            iid = etree.SubElement(wrapper, t("ItemId"))
            iid.set("Id", item.item_id)
            iid.set("ChangeKey", item.change_key)
            etree.SubElement(wrapper, t("IsRead")).text = item.text("IsRead") or "false"
            continue
        wrapper = etree.SubElement(out, t("Create" if change.kind == "create" else "Update"))
        wrapper.append(render_item(ctx.model, item, folder, shape))
    msg = success_message(etree.Element("dummy"), "SyncFolderItems")
    etree.SubElement(msg, m("SyncState")).text = ctx.sync_codec.encode(
        folder.folder_id, new_watermark, folder.epoch
    )
    etree.SubElement(msg, m("IncludesLastItemInRange")).text = "true" if done else "false"
    msg.append(out)
    return msg
