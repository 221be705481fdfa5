"""RFC 822 messages and item properties: what Exchange derives from a delivered message's MIME, and the MIME
it generates for a message created without one.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import uuid
from email.message import EmailMessage
from typing import TYPE_CHECKING

from lxml import etree  # type: ignore[import-untyped]

from .soap import t
from .store import Attachment

if TYPE_CHECKING:
    from .store import Item


def _text(name: str, value: str) -> etree._Element:
    el = etree.Element(t(name))
    el.text = value
    return el


def _recipients(name: str, header: str | None) -> etree._Element | None:
    if not header:
        return None
    el = etree.Element(t(name))
    for display, address in email.utils.getaddresses([header]):
        if not address:
            continue
        mb = etree.SubElement(el, t("Mailbox"))
        etree.SubElement(mb, t("Name")).text = display or address
        etree.SubElement(mb, t("EmailAddress")).text = address
        etree.SubElement(mb, t("RoutingType")).text = "SMTP"
    return el if len(el) else None


def _single(name: str, header: str | None) -> etree._Element | None:
    many = _recipients(name, header)
    if many is None:
        return None
    for extra in many[1:]:
        many.remove(extra)
    return many


def props_from_mime(raw: bytes) -> dict[str, etree._Element]:
    """Subject, sender, recipients, dates, Message-ID and body of an RFC 822 message, as item properties."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    props: dict[str, etree._Element] = {}
    subject = msg.get("Subject")
    if subject is not None:
        props["Subject"] = _text("Subject", str(subject))
    part = msg.get_body(preferencelist=("plain", "html")) if isinstance(msg, EmailMessage) else None
    if part is not None:
        body = _text("Body", str(part.get_content()))
        body.set("BodyType", "HTML" if part.get_content_subtype() == "html" else "Text")
        props["Body"] = body
    date = msg.get("Date")
    if date:
        try:
            when = email.utils.parsedate_to_datetime(str(date))
            from .items import format_datetime  # local import: items imports this module

            props["DateTimeSent"] = _text("DateTimeSent", format_datetime(when))
        except (TypeError, ValueError):
            pass
    for name, header in (("ToRecipients", "To"), ("CcRecipients", "Cc")):
        el = _recipients(name, msg.get(header))
        if el is not None:
            props[name] = el
    for name, header in (("From", "From"), ("Sender", "Sender")):
        el = _single(name, msg.get(header) or msg.get("From"))
        if el is not None:
            props[name] = el
    message_id = msg.get("Message-ID")
    if message_id:
        props["InternetMessageId"] = _text("InternetMessageId", str(message_id).strip())
    return props


def attachments_from_mime(raw: bytes, stamp: str) -> list[Attachment]:
    """The attachments Exchange would list for a delivered message."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    found: list[Attachment] = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        cid = part.get("Content-ID")
        found.append(
            Attachment(
                key=uuid.uuid4().hex,
                name=part.get_filename() or "attachment",
                content_type=part.get_content_type(),
                content=content,
                is_inline=part.get_content_disposition() == "inline",
                content_id=str(cid).strip("<>") if cid else None,
                last_modified=stamp,
            )
        )
    return found


def mime_from_item(item: Item) -> bytes | None:
    """Generate MIME for a message item without one (as Exchange does on request); None for other kinds."""
    if item.kind != "Message":
        return None
    msg = EmailMessage()
    msg["Subject"] = item.text("Subject") or ""
    for header, name in (("From", "From"), ("To", "ToRecipients"), ("Cc", "CcRecipients")):
        el = item.props.get(name)
        if el is not None:
            addresses = [a.text or "" for a in el.iter(t("EmailAddress"))]
            if addresses:
                msg[header] = ", ".join(addresses)
    message_id = item.text("InternetMessageId")
    if message_id:
        msg["Message-ID"] = message_id
    body = item.props.get("Body")
    if body is not None and body.get("BodyType") == "HTML":
        msg.set_content(body.text or "", subtype="html")
    else:
        msg.set_content(body.text or "" if body is not None else "")
    for attachment in item.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(
            attachment.content, maintype=maintype or "application", subtype=subtype or "octet-stream",
            filename=attachment.name,
        )  # fmt: skip
    return msg.as_bytes(policy=email.policy.SMTP)
