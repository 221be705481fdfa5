"""GetItem: items (and occurrences) by id with an ItemShape, incl. MimeContent; errors per id."""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]

from ..items import ItemError, parse_shape, render_item
from ..recurrence import occurrence_item
from ..soap import error_message, m, response_root, success_message
from .context import OperationContext, children


def get_item(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """GetItem: one response message per requested id, in request order."""
    root, messages = response_root("GetItem")
    shape = parse_shape(op.find(m("ItemShape")))
    for iid in children(op, "ItemIds"):
        try:
            _mailbox, folder, item, occurrence = ctx.item_or_occurrence(iid)
            if occurrence is not None:
                item = occurrence_item(item, occurrence)
        except ItemError as exc:
            error_message(messages, "GetItem", exc.code, exc.message)
            continue
        msg = success_message(messages, "GetItem")
        etree.SubElement(msg, m("Items")).append(render_item(ctx.model, item, folder, shape))
    return root
