"""FindItem: shapes, IndexedPageItemView paging, CalendarView, Restriction, SortOrder; per parent folder."""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]

from ..items import ItemError, Shape, parse_datetime, parse_shape, render_item
from ..recurrence import occurrence_item, occurrences_of
from ..restrictions import Restriction, matches_query, overlaps, sort_items
from ..soap import error_message, m, response_root, success_message, t
from ..store import Folder, Item
from .context import OperationContext, children


def find_item(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """FindItem: one response message per parent folder."""
    root, messages = response_root("FindItem")
    shape = parse_shape(op.find(m("ItemShape")))
    for fid in children(op, "ParentFolderIds"):
        try:
            _mailbox, folder = ctx.folder(fid)
            msg = _find_in(ctx, op, folder, shape)
        except ItemError as exc:
            error_message(messages, "FindItem", exc.code, exc.message)
            continue
        messages.append(msg)
    return root


def _find_in(ctx: OperationContext, op: etree._Element, folder: Folder, shape: Shape) -> etree._Element:
    kinds = (folder.default_kind, *sorted({i.kind for i in folder.items.values()} - {folder.default_kind}))
    restriction_el = op.find(m("Restriction"))
    restriction = Restriction(ctx.model, restriction_el, kinds) if restriction_el is not None else None
    query = (op.findtext(m("QueryString")) or "").strip()
    entries: list[tuple[Item, Folder]] = [
        (item, folder)
        for item in folder.items.values()
        if (restriction is None or restriction.matches(item, folder))
        and (not query or matches_query(item, query))
    ]
    calendar_view = op.find(m("CalendarView"))
    paged = op.find(m("IndexedPageItemView"))
    offset_attr: int | None = None
    if calendar_view is not None:
        start = parse_datetime(calendar_view.get("StartDate", ""))
        end = parse_datetime(calendar_view.get("EndDate", ""))
        if end <= start:
            raise ItemError(
                "ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is earlier than StartDate."
            )
        expanded: list[tuple[Item, Folder]] = []
        for item, parent in entries:
            if item.kind != "CalendarItem":
                continue
            if "Recurrence" in item.props:
                for occurrence in occurrences_of(item, end):
                    view = occurrence_item(item, occurrence)
                    if overlaps(view, start, end):
                        expanded.append((view, parent))
            elif overlaps(item, start, end):
                expanded.append((item, parent))
        entries = expanded
        entries.sort(key=lambda e: parse_datetime(e[0].text("Start") or ""))
        total = len(entries)
        limit = int(calendar_view.get("MaxEntriesReturned", "0") or 0) or total
        page = entries[:limit]
        includes_last = len(page) == total
    else:
        entries = sort_items(ctx.model, entries, op.find(m("SortOrder")), kinds)
        total = len(entries)
        offset, limit = 0, total
        if paged is not None:
            limit = int(paged.get("MaxEntriesReturned", str(total)) or total)
            offset = int(paged.get("Offset", "0"))
            if paged.get("BasePoint", "Beginning") == "End":
                offset = max(total - offset - limit, 0)
        page = entries[offset : offset + limit]
        offset_attr = offset + len(page)
        includes_last = offset + len(page) >= total
    msg = success_message(etree.Element("dummy"), "FindItem")
    root_folder = etree.SubElement(msg, m("RootFolder"))
    if offset_attr is not None:
        root_folder.set("IndexedPagingOffset", str(offset_attr))
    root_folder.set("TotalItemsInView", str(total))
    root_folder.set("IncludesLastItemInRange", "true" if includes_last else "false")
    items = etree.SubElement(root_folder, t("Items"))
    for item, parent in page:
        items.append(render_item(ctx.model, item, parent, shape, for_find=True))
    return msg
