"""DeleteItem: HardDelete (gone), SoftDelete (to Recoverable Items/Deletions) and MoveToDeletedItems."""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]

from ..items import ItemError
from ..soap import error_message, response_root, success_message
from .context import OperationContext, children
from .move import move_to


def delete_item(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """DeleteItem: one response message (without a container) per id."""
    root, messages = response_root("DeleteItem")
    delete_type = op.get("DeleteType", "HardDelete")
    for iid in children(op, "ItemIds"):
        try:
            with ctx.store.lock:
                mailbox, folder, item, occurrence = ctx.item_or_occurrence(iid)
                if occurrence is not None:
                    item.deleted_occurrences.add(occurrence.index)
                    item.modified_occurrences.pop(occurrence.index, None)
                    ctx.store.touch(folder, item, ["DeletedOccurrences"])
                    success_message(messages, "DeleteItem")
                    continue
                trash = mailbox.folder("deleteditems")
                dumpster = mailbox.folder("recoverableitemsdeletions")
                if delete_type == "MoveToDeletedItems" and folder is not trash:
                    move_to(ctx, mailbox, folder, item, mailbox, trash, keep_original=False)
                elif delete_type in ("SoftDelete", "MoveToDeletedItems") and folder is not dumpster:
                    move_to(ctx, mailbox, folder, item, mailbox, dumpster, keep_original=False)
                else:
                    ctx.store.remove(mailbox, folder, item.item_id)
        except ItemError as exc:
            error_message(messages, "DeleteItem", exc.code, exc.message)
            continue
        success_message(messages, "DeleteItem")
    return root
