"""DeleteItem: HardDelete, SoftDelete (gone from the folder) and MoveToDeletedItems (moved, new id)."""

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
                mailbox, folder, item = ctx.item(iid)
                trash = mailbox.folder("deleteditems")
                if delete_type == "MoveToDeletedItems" and folder is not trash:
                    move_to(ctx, mailbox, folder, item, mailbox, trash, keep_original=False)
                else:
                    ctx.store.remove(mailbox, folder, item.item_id)
        except ItemError as exc:
            error_message(messages, "DeleteItem", exc.code, exc.message)
            continue
        success_message(messages, "DeleteItem")
    return root
