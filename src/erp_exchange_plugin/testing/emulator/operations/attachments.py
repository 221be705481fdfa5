"""CreateAttachment, GetAttachment and DeleteAttachment for file attachments (not item attachments).

Attachment ids name their item, so GetAttachment/DeleteAttachment find it; adding or removing an attachment
changes the item (new change key, an update for SyncFolderItems) and answers with the new RootItemChangeKey.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from lxml import etree  # type: ignore[import-untyped]

from ..ids import MalformedId, attachment_id, parse_attachment_id
from ..items import ItemError, format_datetime, refresh_derived, render_attachment
from ..soap import error_message, local, m, response_root, success_message, t
from ..store import Attachment, Folder, Item
from .context import OperationContext, children


def _owner(ctx: OperationContext, el: etree._Element) -> tuple[Folder, Item, Attachment]:
    try:
        item_id, key = parse_attachment_id(el.get("Id", ""))
    except MalformedId:
        raise ItemError("ErrorInvalidIdMalformed", "Id is malformed.") from None
    holder = etree.Element(t("ItemId"))
    holder.set("Id", item_id)
    _mailbox, folder, item = ctx.item(holder)
    attachment = next((a for a in item.attachments if a.key == key), None)
    if attachment is None:
        raise ItemError("ErrorItemNotFound", "The specified object was not found in the store.")
    return folder, item, attachment


def create_attachment(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """CreateAttachment: one response message per attachment."""
    root, messages = response_root("CreateAttachment")
    parent_el = op.find(m("ParentItemId"))
    for element in children(op, "Attachments"):
        try:
            if parent_el is None:
                raise ItemError("ErrorInvalidIdEmpty", "ParentItemId is missing.")
            _mailbox, folder, item = ctx.item(parent_el)
            if local(element.tag) != "FileAttachment":
                raise ItemError("ErrorInvalidOperation", "The EWS emulator supports file attachments only.")
            try:
                content = base64.b64decode(element.findtext(t("Content")) or "", validate=True)
            except (binascii.Error, ValueError):
                raise ItemError("ErrorInvalidValueForProperty", "Content is not base64.") from None
            attachment = Attachment(
                key=uuid.uuid4().hex,
                name=element.findtext(t("Name")) or "attachment",
                content_type=element.findtext(t("ContentType")) or "application/octet-stream",
                content=content,
                is_inline=(element.findtext(t("IsInline")) or "").strip().lower() in ("1", "true"),
                content_id=element.findtext(t("ContentId")),
                last_modified=format_datetime(ctx.now()),
            )
            item.attachments.append(attachment)
            refresh_derived(item)
            ctx.store.touch(folder, item, ["Attachments"])
        except ItemError as exc:
            error_message(messages, "CreateAttachment", exc.code, exc.message)
            continue
        msg = success_message(messages, "CreateAttachment")
        answer = etree.SubElement(etree.SubElement(msg, m("Attachments")), t("FileAttachment"))
        aid = etree.SubElement(answer, t("AttachmentId"))
        aid.set("Id", attachment_id(item.item_id, attachment.key))
        aid.set("RootItemId", item.item_id)
        aid.set("RootItemChangeKey", item.change_key)
    return root


def get_attachment(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """GetAttachment: the attachment with its content, per requested id."""
    root, messages = response_root("GetAttachment")
    for aid in children(op, "AttachmentIds"):
        try:
            _folder, item, attachment = _owner(ctx, aid)
        except ItemError as exc:
            error_message(messages, "GetAttachment", exc.code, exc.message)
            continue
        msg = success_message(messages, "GetAttachment")
        container = etree.SubElement(msg, m("Attachments"))
        container.append(render_attachment(ctx.model, item, attachment, with_content=True))
    return root


def delete_attachment(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """DeleteAttachment: answers with the parent item's new change key."""
    root, messages = response_root("DeleteAttachment")
    for aid in children(op, "AttachmentIds"):
        try:
            folder, item, attachment = _owner(ctx, aid)
            item.attachments.remove(attachment)
            refresh_derived(item)
            ctx.store.touch(folder, item, ["Attachments"])
        except ItemError as exc:
            error_message(messages, "DeleteAttachment", exc.code, exc.message)
            continue
        msg = success_message(messages, "DeleteAttachment")
        root_id = etree.SubElement(msg, m("RootItemId"))
        root_id.set("RootItemId", item.item_id)
        root_id.set("RootItemChangeKey", item.change_key)
    return root
