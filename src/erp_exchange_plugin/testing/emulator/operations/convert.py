"""ConvertId between EwsId/EwsLegacyId, EntryId and HexEntryId (exchangelib's version guess sends it)."""

from __future__ import annotations

import base64
import binascii

from lxml import etree  # type: ignore[import-untyped]

from ..ids import MalformedId, entry_id_to_id, id_to_entry_id
from ..items import ItemError
from ..soap import error_message, m, response_root, success_message
from .context import OperationContext, children

XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _to_raw(value: str, fmt: str) -> bytes:
    try:
        if fmt in ("EwsId", "EwsLegacyId"):
            return id_to_entry_id(value)
        if fmt == "EntryId":
            raw = base64.b64decode(value.encode(), validate=True)
        elif fmt == "HexEntryId":
            raw = bytes.fromhex(value)
        else:
            raise ItemError("ErrorInvalidIdMalformed", f"Id format {fmt} is not supported by this server.")
        entry_id_to_id(raw)
        return raw
    except (MalformedId, binascii.Error, ValueError):
        raise ItemError("ErrorInvalidIdMalformed", "Id is malformed.") from None


def _from_raw(raw: bytes, fmt: str) -> str:
    if fmt in ("EwsId", "EwsLegacyId"):
        return entry_id_to_id(raw)
    if fmt == "EntryId":
        return base64.b64encode(raw).decode()
    if fmt == "HexEntryId":
        return raw.hex().upper()
    raise ItemError("ErrorInvalidIdMalformed", f"Id format {fmt} is not supported by this server.")


def convert_id(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """ConvertId: one response message per source id."""
    root, messages = response_root("ConvertId")
    destination = op.get("DestinationFormat", "EwsId")
    for source in children(op, "SourceIds"):
        try:
            raw = _to_raw(source.get("Id", ""), source.get("Format", "EwsId"))
            converted = _from_raw(raw, destination)
        except ItemError as exc:
            error_message(messages, "ConvertId", exc.code, exc.message)
            continue
        msg = success_message(messages, "ConvertId")
        alt = etree.SubElement(msg, m("AlternateId"), nsmap={"xsi": XSI})
        alt.set(f"{{{XSI}}}type", "t:AlternateIdType")
        alt.set("Format", destination)
        alt.set("Id", converted)
        alt.set("Mailbox", source.get("Mailbox", ctx.mailbox.address))
    return root
