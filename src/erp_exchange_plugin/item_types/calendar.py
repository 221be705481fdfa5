"""ERP appointments <-> Exchange calendar items.

The ERP record (entity ``appointment``) has these fields; :func:`normalize` checks and
canonicalises them, and both directions of the mapping produce exactly this shape:

================  ===============================================  =============================
field             type                                             Exchange calendar item
================  ===============================================  =============================
subject           text                                             Subject
all_day           bool (default false)                             IsAllDayEvent
start             aware datetime in ``timezone`` (whole seconds);  Start
                  a date when ``all_day``
end               aware datetime in ``end_timezone``; a date (the  End (all-day: the midnight
                  LAST day, inclusive) when ``all_day``            after the last day)
timezone          IANA name (default ``UTC``), canonical (below)   StartTimeZone (Windows id)
end_timezone      IANA name, or null when equal to ``timezone``    EndTimeZone
location          text                                             Location
body              multi-line text                                  Body (HTML is read as text)
reminder_minutes  minutes before start (0..525600), null = none     ReminderIsSet,
                                                                   ReminderMinutesBeforeStart
categories        list of text (compared as a sorted set)          Categories
sensitivity       normal | personal | private | confidential       Sensitivity
show_as           free | tentative | busy | oof |                  LegacyFreeBusyStatus
                  working_elsewhere | no_data (default busy)
attendees         list of {email, optional: bool}, sorted by       RequiredAttendees,
                  e-mail (case-insensitive, no duplicates)         OptionalAttendees
recurrence        null, or the object below                        Recurrence
================  ===============================================  =============================

``recurrence`` (every key present; the ones a pattern does not use are null):

================  =============================================================================
pattern           daily | weekly | monthly | monthly_relative | yearly | yearly_relative
interval          every n days/weeks/months (1..999 daily, 1..99 otherwise; 1 for yearly)
weekdays          weekly: sorted list of monday..sunday
first_day_of_week weekly: monday..sunday (default monday)
day_of_month      monthly, yearly: 1..31
month             yearly, yearly_relative: 1..12
week              monthly_relative, yearly_relative: first | second | third | fourth | last
weekday           monthly_relative, yearly_relative: monday..sunday, day, weekday, weekend_day
until             the last date (inclusive), or null
count             the number of occurrences (1..999), or null; never both until and count
moved             occurrences moved in Outlook: list of {original_start, start, end}, sorted by
                  original_start (datetimes in ``timezone``; dates, end inclusive, when all-day)
deleted           occurrences deleted in Outlook: sorted list of their original starts
================  =============================================================================

The series starts on the start date (in ``timezone``); Exchange's recurrence start date is
derived from it.

``moved`` and ``deleted`` are read-only copies of the master's ModifiedOccurrences and
DeletedOccurrences: EWS only changes them through operations on single occurrences, which the
item-type contract cannot express, so an ERP edit of them is not written to Exchange and the
same run puts Exchange's values back into the record (reported as an update to the ERP).
Fields of a moved occurrence other than its times (a changed subject, say) are not copied.

**Date-times.** Canonical ``start``/``end`` are aware datetimes expressed in the event's own
zone, so the ERP sees the wall-clock time the event was planned in (09:00 Europe/Berlin stays
09:00 across a daylight-saving change, and the offset beside it says which instant that is).
A naive datetime from the ERP is read as a wall-clock time in ``timezone``. Two records that
denote the same instants in the same zone normalise identically, whatever offset they came
with.

**Zones.** Exchange keeps Windows zone ids, which are coarser than IANA names; a zone is
canonicalised to the IANA name its Windows zone maps back to (``Europe/Copenhagen`` becomes
``Europe/Paris``: same rules), so nothing bounces. Windows ids that exchangelib does not know
(legacy and localised ids) are mapped by :mod:`~erp_exchange_plugin.item_types.timezones`; an
item whose zone is still unknown is read in UTC.

**All-day events** are dates on the ERP side. Exchange stores them as midnight to midnight in
the event's zone; exchangelib converts both ways in that zone, so the dates are the same for a
reader in any other zone.

**Attendees are data.** Syncing never sends meeting invitations, updates or cancellations (the
engine writes with ``SendToNone``); the attendee list is copied as it is.

Not mapped: writing exceptions from the ERP (see ``moved``/``deleted`` above), resources, the
organizer and response states.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator, Mapping
from typing import Any, Final

from exchangelib import Attendee, Body, CalendarItem, EWSDate, EWSDateTime, Mailbox
from exchangelib.recurrence import (
    AbsoluteMonthlyPattern,
    AbsoluteYearlyPattern,
    DailyPattern,
    EndDatePattern,
    NoEndPattern,
    NumberedPattern,
    Recurrence,
    RelativeMonthlyPattern,
    RelativeYearlyPattern,
    WeeklyPattern,
)

from erp_exchange_plugin.ews.properties import register
from erp_exchange_plugin.hookspecs import hookimpl
from erp_exchange_plugin.item_types import timezones
from erp_exchange_plugin.item_types.text import clean
from erp_exchange_plugin.item_types.values import (
    body_text,
    categories,
    choice,
    date_value,
    datetime_value,
    flag,
    whole_number,
)
from erp_exchange_plugin.plugin_types import EwsMapping, ItemType, RecordInvalid

register()  # erp_id / erp_installation on CalendarItem
timezones.register()  # before any item is parsed: Windows ids exchangelib does not know


def _read_all_day_in_local_dates(cls: Any, elem: Any, account: Any) -> Any:
    """``CalendarItem.from_xml`` with all-day dates taken in the event's zone before the end moves back.

    exchangelib 5.6 subtracts 24 hours from an all-day event's end *in UTC* and only then takes
    the local date, so an event whose last day is 23 hours long (the spring-forward day:
    2024-03-31 in Europe/Berlin) reads one day short - even ending before it starts. Here the
    end's local midnight is turned into a date first, then one day is taken off. Writing was
    never affected (exchangelib adds the day in local wall-clock time).
    """
    item = super(CalendarItem, cls).from_xml(elem=elem, account=account)
    if not item.is_all_day:
        return item
    for name in ("start", "end"):
        value = getattr(item, name)
        if not isinstance(value, dt.datetime):
            continue
        zone = getattr(item, f"_{name}_timezone")
        day = (value.astimezone(zone) if zone is not None else value).date()
        setattr(item, name, day - dt.timedelta(days=1) if name == "end" else day)
    return item


def install_all_day_fix() -> None:
    """Replace exchangelib's all-day reading by :func:`_read_all_day_in_local_dates` (idempotent)."""
    current = CalendarItem.__dict__["from_xml"]
    if getattr(current.__func__, "__name__", "") != _read_all_day_in_local_dates.__name__:
        CalendarItem.from_xml = classmethod(_read_all_day_in_local_dates)


install_all_day_fix()

SENSITIVITY: Final = {
    "normal": "Normal",
    "personal": "Personal",
    "private": "Private",
    "confidential": "Confidential",
}
SHOW_AS: Final = {
    "free": "Free",
    "tentative": "Tentative",
    "busy": "Busy",
    "oof": "OOF",
    "working_elsewhere": "WorkingElsewhere",
    "no_data": "NoData",
}
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RELATIVE_DAYS: Final = (*WEEKDAYS, "day", "weekday", "weekend_day")
"""exchangelib's weekday numbers 1..10, in order (8..10: any day, a weekday, a weekend day)."""
WEEKS: Final = ("first", "second", "third", "fourth", "last")
PATTERNS: Final = ("daily", "weekly", "monthly", "monthly_relative", "yearly", "yearly_relative")
RECURRENCE_KEYS: Final = (
    "pattern",
    "interval",
    "weekdays",
    "first_day_of_week",
    "day_of_month",
    "month",
    "week",
    "weekday",
    "until",
    "count",
    "moved",
    "deleted",
)
FIELDS: Final = (
    "subject",
    "all_day",
    "start",
    "end",
    "timezone",
    "end_timezone",
    "location",
    "body",
    "reminder_minutes",
    "categories",
    "sensitivity",
    "show_as",
    "attendees",
    "recurrence",
)
MAX_REMINDER: Final = 525_600  # a year

EWS_FIELDS: Final = (
    "subject",
    "start",
    "end",
    "is_all_day",
    "_start_timezone",
    "_end_timezone",
    "location",
    "body",
    "reminder_is_set",
    "reminder_minutes_before_start",
    "categories",
    "sensitivity",
    "legacy_free_busy_status",
    "required_attendees",
    "optional_attendees",
    "recurrence",
    "modified_occurrences",
    "deleted_occurrences",
    "erp_id",
    "erp_installation",
    "last_modified_time",
)
"""The exchangelib fields we fetch (nothing else is requested)."""


# -- normalize ----------------------------------------------------------------------------------------


def _zone(name: str, value: Any) -> str:
    if value is None or value == "":
        return timezones.UTC_ZONE
    if not isinstance(value, str):
        raise RecordInvalid(name, f"must be an IANA time zone name, not {type(value).__name__}")
    return timezones.canonical_zone(value.strip(), name)


def _attendees(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise RecordInvalid("attendees", f"must be a list, not {type(value).__name__}")
    found: dict[str, dict[str, Any]] = {}
    for i, raw in enumerate(value):
        where = f"attendees[{i}]"
        if isinstance(raw, str):
            raw = {"email": raw}
        if not isinstance(raw, Mapping):
            raise RecordInvalid(where, "must be an object {email, optional}")
        for key in raw:
            if key not in ("email", "optional"):
                raise RecordInvalid(f"{where}.{key}", "is not email or optional")
        email = clean(f"{where}.email", raw.get("email"), max_length=320)
        if email is None:
            raise RecordInvalid(f"{where}.email", "is empty")
        if "@" not in email or " " in email:
            raise RecordInvalid(f"{where}.email", f"{email!r} is not an e-mail address")
        optional = flag(f"{where}.optional", raw.get("optional"))
        key = email.lower()
        if key in found:  # listed twice: required wins
            found[key]["optional"] = found[key]["optional"] and optional
        else:
            found[key] = {"email": email, "optional": optional}
    return [found[k] for k in sorted(found)]


def _named(name: str, value: Any, names: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.strip().lower() not in names:
        raise RecordInvalid(name, f"{value!r} is not one of {', '.join(names)}")
    return value.strip().lower()


def _moment(name: str, value: Any, zone: dt.tzinfo, all_day: bool) -> dt.date:
    found = date_value(name, value, zone) if all_day else datetime_value(name, value, zone)
    if found is None:
        raise RecordInvalid(name, "is required")
    return found


def _exceptions(value: Mapping[str, Any], zone: dt.tzinfo, all_day: bool) -> tuple[list[Any], list[Any]]:
    moved_raw, deleted_raw = value.get("moved") or [], value.get("deleted") or []
    for name, raw in (("moved", moved_raw), ("deleted", deleted_raw)):
        if not isinstance(raw, list | tuple):
            raise RecordInvalid(f"recurrence.{name}", f"must be a list, not {type(raw).__name__}")
    moved: dict[Any, dict[str, Any]] = {}
    for i, entry in enumerate(moved_raw):
        where = f"recurrence.moved[{i}]"
        if not isinstance(entry, Mapping) or set(entry) != {"original_start", "start", "end"}:
            raise RecordInvalid(where, "must be an object {original_start, start, end}")
        occurrence = {key: _moment(f"{where}.{key}", entry[key], zone, all_day) for key in entry}
        if occurrence["end"] < occurrence["start"]:
            raise RecordInvalid(f"{where}.end", "is before its start")
        if occurrence["original_start"] in moved:
            raise RecordInvalid(where, "moves an occurrence that is already moved")
        moved[occurrence["original_start"]] = {k: occurrence[k] for k in ("original_start", "start", "end")}
    deleted = {_moment(f"recurrence.deleted[{i}]", d, zone, all_day) for i, d in enumerate(deleted_raw)}
    return [moved[k] for k in sorted(moved)], sorted(deleted)


def _recurrence(value: Any, first_date: dt.date, zone: dt.tzinfo, all_day: bool) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise RecordInvalid("recurrence", f"must be an object, not {type(value).__name__}")
    for key in value:
        if key not in RECURRENCE_KEYS:
            raise RecordInvalid(f"recurrence.{key}", f"is not one of {', '.join(RECURRENCE_KEYS)}")
    out: dict[str, Any] = dict.fromkeys(RECURRENCE_KEYS)
    pattern = _named("recurrence.pattern", value.get("pattern"), PATTERNS)
    out["pattern"] = pattern
    if pattern.startswith("yearly"):
        out["interval"] = 1
    else:
        high = 999 if pattern == "daily" else 99
        interval = whole_number("recurrence.interval", value.get("interval"), low=1, high=high)
        out["interval"] = interval or 1
    if pattern == "weekly":
        days = value.get("weekdays")
        if not isinstance(days, list | tuple) or not days:
            raise RecordInvalid("recurrence.weekdays", "a weekly series needs at least one weekday")
        named = {_named(f"recurrence.weekdays[{i}]", d, WEEKDAYS) for i, d in enumerate(days)}
        out["weekdays"] = [d for d in WEEKDAYS if d in named]
        first = value.get("first_day_of_week")
        out["first_day_of_week"] = (
            "monday" if first is None else _named("recurrence.first_day_of_week", first, WEEKDAYS)
        )
    if pattern in ("monthly", "yearly"):
        day = whole_number("recurrence.day_of_month", value.get("day_of_month"), low=1, high=31)
        out["day_of_month"] = day if day is not None else first_date.day
    if pattern.startswith("yearly"):
        month = whole_number("recurrence.month", value.get("month"), low=1, high=12)
        out["month"] = month if month is not None else first_date.month
    if pattern.endswith("_relative"):
        out["week"] = _named("recurrence.week", value.get("week"), WEEKS)
        out["weekday"] = _named("recurrence.weekday", value.get("weekday"), RELATIVE_DAYS)
    until = date_value("recurrence.until", value.get("until"))
    count = whole_number("recurrence.count", value.get("count"), low=1, high=999)
    if until is not None and count is not None:
        raise RecordInvalid("recurrence", "ends either by a date (until) or after a count, not both")
    if until is not None and until < first_date:
        raise RecordInvalid("recurrence.until", f"{until} is before the first occurrence ({first_date})")
    out["until"], out["count"] = until, count
    out["moved"], out["deleted"] = _exceptions(value, zone, all_day)
    return out


def normalize(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of an appointment record (see the module's table)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise RecordInvalid(sorted(unknown)[0], "is not a field of an appointment")
    out: dict[str, Any] = {
        "subject": clean("subject", fields.get("subject")),
        "all_day": flag("all_day", fields.get("all_day")),
    }
    zone_name = _zone("timezone", fields.get("timezone"))
    end_zone_name = _zone("end_timezone", fields.get("end_timezone") or zone_name)
    zone = zoneinfo.ZoneInfo(zone_name)
    if out["all_day"]:
        end_zone_name = zone_name  # one zone places both midnights
        start = date_value("start", fields.get("start"), zone)
        end = date_value("end", fields.get("end"), zone)
        if start is None:
            raise RecordInvalid("start", "is required")
        end = end if end is not None else start
        first_date = start
    else:
        raw_start, raw_end = fields.get("start"), fields.get("end")
        for name, raw in (("start", raw_start), ("end", raw_end)):
            if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
                raise RecordInvalid(name, "is a date: set all_day for an all-day event")
        start = datetime_value("start", raw_start, zone)
        if start is None:
            raise RecordInvalid("start", "is required")
        end = datetime_value("end", raw_end, zoneinfo.ZoneInfo(end_zone_name))
        end = end if end is not None else start.astimezone(zoneinfo.ZoneInfo(end_zone_name))
        first_date = start.date()
    if end < start:
        raise RecordInvalid("end", f"{end} is before the start ({start})")
    out["start"], out["end"] = start, end
    out["timezone"] = zone_name
    out["end_timezone"] = None if end_zone_name == zone_name else end_zone_name
    out["location"] = clean("location", fields.get("location"))
    out["body"] = clean("body", fields.get("body"), multiline=True, max_length=1_000_000)
    out["reminder_minutes"] = whole_number(
        "reminder_minutes", fields.get("reminder_minutes"), low=0, high=MAX_REMINDER
    )
    out["categories"] = categories("categories", fields.get("categories"))
    out["sensitivity"] = choice("sensitivity", fields.get("sensitivity"), SENSITIVITY, "normal")
    out["show_as"] = choice("show_as", fields.get("show_as"), SHOW_AS, "busy")
    out["attendees"] = _attendees(fields.get("attendees"))
    out["recurrence"] = _recurrence(fields.get("recurrence"), first_date, zone, out["all_day"])
    return out


# -- to Exchange --------------------------------------------------------------------------------------


def _ews_date(value: dt.date) -> EWSDate:
    return EWSDate(value.year, value.month, value.day)


def _pattern(rec: Mapping[str, Any]) -> Any:
    kind = rec["pattern"]
    if kind == "daily":
        return DailyPattern(interval=rec["interval"])
    if kind == "weekly":
        return WeeklyPattern(
            interval=rec["interval"],
            weekdays=[WEEKDAYS.index(d) + 1 for d in rec["weekdays"]],
            first_day_of_week=WEEKDAYS.index(rec["first_day_of_week"]) + 1,
        )
    if kind == "monthly":
        return AbsoluteMonthlyPattern(interval=rec["interval"], day_of_month=rec["day_of_month"])
    week = WEEKS.index(rec["week"]) + 1 if rec["week"] else None
    weekday = RELATIVE_DAYS.index(rec["weekday"]) + 1 if rec["weekday"] else None
    if kind == "monthly_relative":
        return RelativeMonthlyPattern(interval=rec["interval"], weekday=weekday, week_number=week)
    if kind == "yearly":
        return AbsoluteYearlyPattern(day_of_month=rec["day_of_month"], month=rec["month"])
    return RelativeYearlyPattern(weekday=weekday, week_number=week, month=rec["month"])


def _ews_recurrence(rec: Mapping[str, Any] | None, first_date: dt.date) -> Recurrence | None:
    if rec is None:
        return None
    start = _ews_date(first_date)
    if rec["until"] is not None:
        boundary: Any = EndDatePattern(start=start, end=_ews_date(rec["until"]))
    elif rec["count"] is not None:
        boundary = NumberedPattern(start=start, number=rec["count"])
    else:
        boundary = NoEndPattern(start=start)
    return Recurrence(pattern=_pattern(rec), boundary=boundary)


def _ews_attendees(attendees: list[dict[str, Any]], optional: bool) -> list[Attendee] | None:
    found = [
        Attendee(mailbox=Mailbox(email_address=a["email"]), response_type="Unknown")
        for a in attendees
        if a["optional"] is optional
    ]
    return found or None


def to_exchange(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Normalized appointment fields -> exchangelib CalendarItem attribute values (``None`` clears)."""
    zone = timezones.ews_zone(fields["timezone"])
    end_zone = timezones.ews_zone(fields["end_timezone"] or fields["timezone"])
    start, end = fields["start"], fields["end"]
    if fields["all_day"]:
        ews_start: Any = _ews_date(start)
        ews_end: Any = _ews_date(end)
        first_date = start
    else:
        ews_start = EWSDateTime.from_datetime(start.astimezone(dt.UTC)).astimezone(zone)
        ews_end = EWSDateTime.from_datetime(end.astimezone(dt.UTC)).astimezone(end_zone)
        first_date = start.astimezone(zone).date()
    minutes = fields["reminder_minutes"]
    return {
        "subject": fields["subject"],
        "start": ews_start,
        "end": ews_end,
        "is_all_day": fields["all_day"],
        "_start_timezone": zone,
        "_end_timezone": end_zone,
        "location": fields["location"],
        "body": Body(fields["body"]) if fields["body"] else None,
        "reminder_is_set": minutes is not None,
        "reminder_minutes_before_start": minutes or 0,
        "categories": list(fields["categories"]) or None,
        "sensitivity": SENSITIVITY[fields["sensitivity"]],
        "legacy_free_busy_status": SHOW_AS[fields["show_as"]],
        "required_attendees": _ews_attendees(fields["attendees"], optional=False),
        "optional_attendees": _ews_attendees(fields["attendees"], optional=True),
        "recurrence": _ews_recurrence(fields["recurrence"], first_date),
    }


# -- to the ERP ---------------------------------------------------------------------------------------


def _reverse(mapping: Mapping[str, str], value: Any, default: str) -> str:
    for key, ews in mapping.items():
        if ews == value:
            return key
    return default


def _number_name(names: tuple[str, ...], value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int):
        return names[value - 1]
    return str(value).lower().replace("weekendday", "weekend_day")


def _erp_exceptions(item: Any, zone: dt.tzinfo, all_day: bool) -> dict[str, list[Any]]:
    moved = []
    for occurrence in item.modified_occurrences or ():
        end = occurrence.end
        if all_day and end is not None:  # the exclusive midnight after the occurrence's last day
            last = date_value("end", end, zone)
            end = last - dt.timedelta(days=1) if last is not None else None
        moved.append({"original_start": occurrence.original_start, "start": occurrence.start, "end": end})
    return {"moved": moved, "deleted": [d.start for d in item.deleted_occurrences or ()]}


def _erp_recurrence(rec: Any) -> dict[str, Any] | None:
    if rec is None or rec.pattern is None:
        return None
    pattern = rec.pattern
    out: dict[str, Any] = {}
    if isinstance(pattern, DailyPattern):
        out = {"pattern": "daily", "interval": pattern.interval}
    elif isinstance(pattern, WeeklyPattern):
        days = pattern.weekdays or []
        out = {
            "pattern": "weekly",
            "interval": pattern.interval,
            "weekdays": [_number_name(WEEKDAYS, d) for d in (days if isinstance(days, list) else [days])],
            "first_day_of_week": _number_name(WEEKDAYS, pattern.first_day_of_week),
        }
    elif isinstance(pattern, AbsoluteMonthlyPattern):
        out = {"pattern": "monthly", "interval": pattern.interval, "day_of_month": pattern.day_of_month}
    elif isinstance(pattern, RelativeMonthlyPattern):
        out = {
            "pattern": "monthly_relative",
            "interval": pattern.interval,
            "week": _number_name(WEEKS, pattern.week_number),
            "weekday": _number_name(RELATIVE_DAYS, pattern.weekday),
        }
    elif isinstance(pattern, AbsoluteYearlyPattern):
        out = {"pattern": "yearly", "day_of_month": pattern.day_of_month, "month": pattern.month}
    elif isinstance(pattern, RelativeYearlyPattern):
        out = {
            "pattern": "yearly_relative",
            "month": pattern.month,
            "week": _number_name(WEEKS, pattern.week_number),
            "weekday": _number_name(RELATIVE_DAYS, pattern.weekday),
        }
    else:
        raise RecordInvalid("recurrence", f"pattern {type(pattern).__name__} is not supported")
    boundary = rec.boundary
    if isinstance(boundary, EndDatePattern):
        out["until"] = boundary.end
    elif isinstance(boundary, NumberedPattern):
        out["count"] = boundary.number
    return out


def _erp_attendees(item: Any) -> Iterator[dict[str, Any]]:
    for optional, attendees in ((False, item.required_attendees), (True, item.optional_attendees)):
        for attendee in attendees or ():
            mailbox = attendee.mailbox
            email = getattr(mailbox, "email_address", None) if mailbox is not None else None
            if email:
                yield {"email": email, "optional": optional}


def to_erp(item: Any) -> dict[str, Any]:
    """An exchangelib CalendarItem -> normalized appointment fields."""
    zone = timezones.zone_of(item._start_timezone)
    end_zone = timezones.zone_of(item._end_timezone) if item._end_timezone is not None else zone
    all_day = bool(item.is_all_day)
    start, end = item.start, item.end
    if all_day and isinstance(end, dt.datetime):  # parsed items carry dates; this is the exclusive midnight
        last = date_value("end", end, zoneinfo.ZoneInfo(zone))
        end = last - dt.timedelta(days=1) if last is not None else None
    minutes = item.reminder_minutes_before_start if item.reminder_is_set else None
    recurrence = _erp_recurrence(item.recurrence)
    if recurrence is not None:
        recurrence.update(_erp_exceptions(item, zoneinfo.ZoneInfo(zone), all_day))
    return normalize(
        {
            "subject": item.subject,
            "all_day": all_day,
            "start": start,
            "end": end,
            "timezone": zone,
            "end_timezone": end_zone,
            "location": item.location,
            "body": body_text(item.body),
            "reminder_minutes": minutes,
            "categories": list(item.categories or ()),
            "sensitivity": _reverse(SENSITIVITY, item.sensitivity, "normal"),
            "show_as": _reverse(SHOW_AS, item.legacy_free_busy_status, "busy"),
            "attendees": list(_erp_attendees(item)),
            "recurrence": recurrence,
        }
    )


def item_type() -> ItemType:
    """The calendar item type."""
    return ItemType(
        name="calendar",
        erp_entity="appointment",
        description="ERP appointments <-> Exchange calendar items",
        backends={
            "ews": EwsMapping(
                "calendar",
                CalendarItem,
                EWS_FIELDS,
                to_exchange,
                to_erp,
                send_together=(
                    ("start", "end", "is_all_day", "_start_timezone", "_end_timezone", "recurrence"),
                    ("reminder_is_set", "reminder_minutes_before_start"),
                    ("required_attendees", "optional_attendees"),
                ),
            )
        },
        normalize=normalize,
        span=span,
        default_window_days=(30, 365),
    )


def span(fields: Mapping[str, Any]) -> tuple[dt.datetime, dt.datetime] | None:
    """When an event (or a whole series) takes place, for the sync window: a series without an end is
    open-ended, an all-day event spans its days in its own zone."""
    start, end = fields.get("start"), fields.get("end")
    if start is None or end is None:
        return None
    zone = zoneinfo.ZoneInfo(fields.get("timezone") or "UTC")
    if not isinstance(start, dt.datetime):
        start = dt.datetime.combine(start, dt.time(), zone)
    if not isinstance(end, dt.datetime):
        end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone)
    recurrence = fields.get("recurrence")
    if recurrence:
        until = recurrence.get("until")
        if until is None:
            end = dt.datetime.max.replace(tzinfo=dt.UTC)
        else:
            end = max(end, dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), zone))
    return start, end


@hookimpl
def erp_exchange_item_types() -> Iterator[ItemType]:
    """The built-in calendar item type."""
    yield item_type()
