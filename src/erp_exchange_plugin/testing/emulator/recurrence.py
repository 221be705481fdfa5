"""Recurring series: expanding ``t:Recurrence`` into occurrences, occurrence ids, and exceptions.

Supports the six patterns (Daily, Weekly, AbsoluteMonthly, RelativeMonthly, AbsoluteYearly, RelativeYearly)
and the three ranges (NoEnd, EndDate, Numbered). Occurrences keep the master's local wall-clock start in its
``StartTimeZone`` (a Windows zone id, mapped to IANA), so they stay at 09:00 across DST changes. Deleted
occurrences (by index) are skipped. A modified occurrence (an exception) keeps the properties changed on it as
overrides in the master (``Item.modified_occurrences``) and is rendered with CalendarItemType ``Exception``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP
from lxml import etree  # type: ignore[import-untyped]

from . import ids
from .soap import local, t
from .store import Item

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = list(calendar.month_name)
INDEXES = {"First": 0, "Second": 1, "Third": 2, "Fourth": 3, "Last": -1}
MAX_OCCURRENCES = 5000


@dataclass(frozen=True)
class Occurrence:
    """One expanded occurrence: its 1-based index in the series and its UTC start and end."""

    index: int
    start: dt.datetime
    end: dt.datetime


def _zone(windows_id: str | None) -> dt.tzinfo:
    if not windows_id:
        return dt.UTC
    iana = MS_TIMEZONE_TO_IANA_MAP.get(windows_id)
    return ZoneInfo(iana) if iana else dt.UTC


def _days(text: str | None) -> list[int]:
    names = (text or "").split()
    result: set[int] = set()
    for name in names:
        if name == "Day":
            result.update(range(7))
        elif name == "Weekday":
            result.update(range(5))
        elif name == "WeekendDay":
            result.update((5, 6))
        elif name in WEEKDAYS:
            result.add(WEEKDAYS.index(name))
    return sorted(result)


def _nth_weekday(year: int, month: int, days: list[int], index: str) -> dt.date | None:
    last = calendar.monthrange(year, month)[1]
    matches = [
        dt.date(year, month, d) for d in range(1, last + 1) if dt.date(year, month, d).weekday() in days
    ]
    if not matches:
        return None
    position = INDEXES.get(index, 0)
    return matches[position] if position < len(matches) else matches[-1]


def _absolute(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + n
    return total // 12, total % 12 + 1


def _pattern_dates(pattern: etree._Element, start: dt.date) -> Iterator[dt.date]:
    name = local(pattern.tag)
    interval = int(pattern.findtext(t("Interval")) or "1")
    if name == "DailyRecurrence":
        day = start
        while True:
            yield day
            day += dt.timedelta(days=interval)
    elif name == "WeeklyRecurrence":
        days = _days(pattern.findtext(t("DaysOfWeek"))) or [start.weekday()]
        first = WEEKDAYS.index(pattern.findtext(t("FirstDayOfWeek")) or "Sunday")
        week = start - dt.timedelta(days=(start.weekday() - first) % 7)
        while True:
            for offset in range(7):
                day = week + dt.timedelta(days=offset)
                if day.weekday() in days and day >= start:
                    yield day
            week += dt.timedelta(weeks=interval)
    else:  # (Absolute|Relative)(Monthly|Yearly)Recurrence: one candidate day per month step
        yearly = name.endswith("YearlyRecurrence")
        fixed_month = MONTHS.index(pattern.findtext(t("Month")) or "January") if yearly else 0
        k = 0
        while True:
            if yearly:
                year, month = start.year + k, fixed_month
            else:
                year, month = _add_months(start.year, start.month, k * interval)
            picked = _day_in_month(pattern, year, month)
            if picked is not None and picked >= start:
                yield picked
            k += 1


def _day_in_month(pattern: etree._Element, year: int, month: int) -> dt.date | None:
    """The day an Absolute* pattern (DayOfMonth) or Relative* pattern (nth weekday) picks in a month."""
    if local(pattern.tag).startswith("Absolute"):
        return _absolute(year, month, int(pattern.findtext(t("DayOfMonth")) or "1"))
    days = _days(pattern.findtext(t("DaysOfWeek")))
    return _nth_weekday(year, month, days, pattern.findtext(t("DayOfWeekIndex")) or "First")


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    return dt.date.fromisoformat(text.strip()[:10])


def expand(
    recurrence: etree._Element,
    master_start: dt.datetime,
    master_end: dt.datetime,
    windows_zone: str | None,
    until: dt.datetime,
    deleted: frozenset[int] = frozenset(),
) -> Iterator[Occurrence]:
    """Occurrences of a series starting before ``until`` (UTC), in order."""
    children = [c for c in recurrence if isinstance(c.tag, str)]
    if len(children) != 2:
        return
    pattern, boundary = children
    zone = _zone(windows_zone)
    local_start = master_start.astimezone(zone)
    duration = master_end - master_start
    range_start = _date(boundary.findtext(t("StartDate"))) or local_start.date()
    end_date = _date(boundary.findtext(t("EndDate"))) if local(boundary.tag) == "EndDateRecurrence" else None
    count_text = boundary.findtext(t("NumberOfOccurrences"))
    count = int(count_text) if local(boundary.tag) == "NumberedRecurrence" and count_text else None
    for index, day in enumerate(_pattern_dates(pattern, range_start), start=1):
        if index > MAX_OCCURRENCES or (count is not None and index > count) or (end_date and day > end_date):
            return
        start = dt.datetime.combine(day, local_start.timetz().replace(tzinfo=None), zone).astimezone(dt.UTC)
        if start >= until:
            return
        if index not in deleted:
            yield Occurrence(index, start, start + duration)


def occurrence_at(
    recurrence: etree._Element,
    master_start: dt.datetime,
    master_end: dt.datetime,
    windows_zone: str | None,
    index: int,
) -> Occurrence | None:
    """The occurrence with a given 1-based index, or None if the series has no such occurrence."""
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    for occurrence in expand(recurrence, master_start, master_end, windows_zone, far):
        if occurrence.index == index:
            return occurrence
        if occurrence.index > index:
            return None
    return None


def _utc(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def series_window(item: Item) -> tuple[etree._Element, dt.datetime, dt.datetime, str | None] | None:
    """(Recurrence, master start, master end, Windows zone) of a recurring master, else None."""
    recurrence = item.props.get("Recurrence")
    start, end = _utc(item.text("Start")), _utc(item.text("End"))
    if item.kind != "CalendarItem" or recurrence is None or start is None or end is None:
        return None
    zone_el = item.props.get("StartTimeZone")
    return recurrence, start, end, zone_el.get("Id") if zone_el is not None else None


def occurrences_of(item: Item, until: dt.datetime) -> Iterator[Occurrence]:
    """The remaining (not deleted) occurrences of a master that start before ``until``."""
    window = series_window(item)
    if window is None:
        return iter(())
    return expand(*window, until, frozenset(item.deleted_occurrences))


def find_occurrence(item: Item, index: int) -> Occurrence | None:
    """Occurrence ``index`` of a master, None if there is none or it was deleted."""
    window = series_window(item)
    if window is None or index in item.deleted_occurrences:
        return None
    return occurrence_at(*window, index)


def _info(name: str, item: Item, occurrence: Occurrence) -> etree._Element:
    el = etree.Element(t(name))
    iid = etree.SubElement(el, t("ItemId"))
    iid.set("Id", ids.occurrence_id(item.item_id, occurrence.index))
    iid.set("ChangeKey", item.change_key)
    etree.SubElement(el, t("Start")).text = _stamp(occurrence.start)
    etree.SubElement(el, t("End")).text = _stamp(occurrence.end)
    etree.SubElement(el, t("OriginalStart")).text = _stamp(occurrence.start)
    return el


def series_props(item: Item) -> dict[str, etree._Element]:
    """FirstOccurrence, LastOccurrence (bounded series only) and DeletedOccurrences of a master."""
    window = series_window(item)
    if window is None:
        return {}
    props: dict[str, etree._Element] = {}
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    deleted = frozenset(item.deleted_occurrences)
    first = next(expand(*window, far, deleted), None)
    if first is not None:
        props["FirstOccurrence"] = _info("FirstOccurrence", item, first)
        if local(window[0][1].tag) != "NoEndRecurrence":
            last = deque(expand(*window, far, deleted), maxlen=1)
            props["LastOccurrence"] = _info("LastOccurrence", item, last[0])
    modified = modified_occurrences(item)
    if modified is not None:
        props["ModifiedOccurrences"] = modified
    if deleted:
        container = etree.Element(t("DeletedOccurrences"))
        for occurrence in expand(*window, far):
            if occurrence.index in deleted:
                info = etree.SubElement(container, t("DeletedOccurrence"))
                etree.SubElement(info, t("Start")).text = _stamp(occurrence.start)
            if occurrence.index >= max(deleted):
                break
        if len(container):
            props["DeletedOccurrences"] = container
    return props


def occurrence_item(item: Item, occurrence: Occurrence) -> Item:
    """One occurrence as an item of its own (CalendarItemType Occurrence, or Exception when modified).

    Its props are fresh references to the master's elements plus its own Start/End; changes to it are
    folded back with :func:`store_exception`.
    """
    props = dict(item.props)
    props.pop("Recurrence", None)
    overrides = item.modified_occurrences.get(occurrence.index, {})
    for name, value in (
        ("Start", _stamp(occurrence.start)),
        ("End", _stamp(occurrence.end)),
        ("OriginalStart", _stamp(occurrence.start)),
        ("CalendarItemType", "Exception" if overrides else "Occurrence"),
        ("IsRecurring", "true"),
    ):
        el = etree.Element(t(name))
        el.text = value
        props[name] = el
    for name, override in overrides.items():
        if override is None:
            props.pop(name, None)
        else:
            props[name] = override
    return Item(
        item_id=ids.occurrence_id(item.item_id, occurrence.index),
        kind="CalendarItem",
        props=props,
        extended=item.extended,
        version=item.version,
        salt=item.salt,
    )


def store_exception(master: Item, occurrence: Occurrence, view: Item, changed: list[str]) -> None:
    """Keep the properties ``changed`` on an occurrence view as that occurrence's exception data."""
    overrides = master.modified_occurrences.setdefault(occurrence.index, {})
    for name in changed:
        overrides[name] = view.props.get(name)


def modified_occurrences(item: Item) -> etree._Element | None:
    """``t:ModifiedOccurrences`` of a master (ItemId, Start, End, OriginalStart of each exception)."""
    if not item.modified_occurrences:
        return None
    container = etree.Element(t("ModifiedOccurrences"))
    for index in sorted(item.modified_occurrences):
        occurrence = find_occurrence(item, index)
        if occurrence is None:
            continue
        view = occurrence_item(item, occurrence)
        info = etree.SubElement(container, t("Occurrence"))
        iid = etree.SubElement(info, t("ItemId"))
        iid.set("Id", view.item_id)
        iid.set("ChangeKey", item.change_key)
        etree.SubElement(info, t("Start")).text = view.text("Start")
        etree.SubElement(info, t("End")).text = view.text("End")
        etree.SubElement(info, t("OriginalStart")).text = _stamp(occurrence.start)
    return container if len(container) else None
