"""MoveItem and CopyItem: the item appears in the target folder under a new id (as in Exchange 2010 SP1+)."""

from __future__ import annotations

import copy

from lxml import etree  # type: ignore[import-untyped]

from .. import ids
from ..items import ItemError
from ..soap import error_message, m, response_root, success_message
from ..store import Folder, Item, Mailbox
from .context import OperationContext, children, item_id_element


def move_to(
    ctx: OperationContext,
    src_mailbox: Mailbox,
    src: Folder,
    item: Item,
    dst_mailbox: Mailbox,
    dst: Folder,
    *,
    keep_original: bool,
) -> Item:
    """Put a copy of ``item`` into ``dst`` with a new id; remove the original unless ``keep_original``."""
    new = Item(
        item_id=ids.new_id(dst_mailbox.address),
        kind=item.kind,
        props=copy.deepcopy(item.props),
        extended=copy.deepcopy(item.extended),
        mime=item.mime,
        attachments=[copy.copy(a) for a in item.attachments],
    )
    if not keep_original:
        ctx.store.remove(src_mailbox, src, item.item_id)
    ctx.store.insert(dst_mailbox, dst, new)
    return new


def _move_or_copy(ctx: OperationContext, op: etree._Element, name: str, keep: bool) -> etree._Element:
    root, messages = response_root(name)
    to = op.find(m("ToFolderId"))
    for iid in children(op, "ItemIds"):
        try:
            with ctx.store.lock:
                if to is None or len(to) == 0:
                    raise ItemError("ErrorInvalidIdEmpty", "ToFolderId is missing.")
                dst_mailbox, dst = ctx.folder(to[0])
                mailbox, folder, item = ctx.item(iid)
                new = move_to(ctx, mailbox, folder, item, dst_mailbox, dst, keep_original=keep)
        except ItemError as exc:
            error_message(messages, name, exc.code, exc.message)
            continue
        msg = success_message(messages, name)
        etree.SubElement(msg, m("Items")).append(item_id_element(new))
    return root


def move_item(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """MoveItem."""
    return _move_or_copy(ctx, op, "MoveItem", keep=False)


def copy_item(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """CopyItem."""
    return _move_or_copy(ctx, op, "CopyItem", keep=True)
