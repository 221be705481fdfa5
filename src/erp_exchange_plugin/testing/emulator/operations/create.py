"""CreateItem: contacts, calendar items, tasks and messages (SaveOnly, SendOnly, SendAndSaveCopy).

Messages that are sent are delivered to the inbox of every recipient that is a mailbox of this emulator.
"""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]

from .. import ids, mime
from ..items import ItemError, build_item
from ..soap import error_message, local, m, response_root, success_message, t
from ..store import Folder, Item, Mailbox
from .context import OperationContext, children, item_id_element

_DEFAULT_FOLDERS = {"Contact": "contacts", "CalendarItem": "calendar", "Task": "tasks", "Message": "drafts"}


def create_item(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """CreateItem: one response message per item, in request order."""
    root, messages = response_root("CreateItem")
    disposition = op.get("MessageDisposition", "SaveOnly")
    saved = op.find(m("SavedItemFolderId"))
    for element in children(op, "Items"):
        try:
            target: tuple[Mailbox, Folder] | None = None
            if saved is not None and len(saved):
                target = ctx.folder(saved[0])
            kind = local(element.tag)
            sending = kind == "Message" and disposition in ("SendOnly", "SendAndSaveCopy")
            if target is None:
                name = "sentitems" if sending else _DEFAULT_FOLDERS.get(kind, "drafts")
                target = ctx.mailbox, ctx.mailbox.folder(name)
            mailbox, folder = target
            with ctx.store.lock:
                item = build_item(
                    ctx.model,
                    element,
                    ids.new_id(mailbox.address),
                    mailbox.address,
                    ctx.now(),
                    draft=not sending,
                )
                if sending:
                    _send(ctx, item)
                    if disposition == "SendOnly":
                        success_message(messages, "CreateItem").append(etree.Element(m("Items")))
                        continue
                ctx.store.insert(mailbox, folder, item)
        except ItemError as exc:
            error_message(messages, "CreateItem", exc.code, exc.message)
            continue
        msg = success_message(messages, "CreateItem")
        etree.SubElement(msg, m("Items")).append(item_id_element(item))
    return root


def _send(ctx: OperationContext, item: Item) -> None:
    raw = item.mime if item.mime is not None else mime.mime_from_item(item)
    if raw is None:
        return
    recipients: list[str] = []
    for name in ("ToRecipients", "CcRecipients", "BccRecipients"):
        el = item.props.get(name)
        if el is not None:
            recipients.extend((a.text or "") for a in el.iter(t("EmailAddress")))
    for address in recipients:
        if ctx.store.mailbox(address) is not None:
            ctx.deliver(address, raw)
