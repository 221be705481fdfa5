"""The calendar item type's mapping, both ways, without a server (the engine tests use the emulator)."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from exchangelib import CalendarItem, EWSTimeZone, HTMLBody
from exchangelib.fields import TimeZoneField
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from erp_exchange_plugin.item_types import calendar, timezones
from erp_exchange_plugin.plugin_types import RecordInvalid, canonical_fingerprint

BERLIN = ZoneInfo("Europe/Berlin")

FULL: dict[str, Any] = {
    "subject": "Jahresgespräch Müller",
    "start": dt.datetime(2024, 3, 29, 9, 0),  # naive: wall-clock time in Berlin
    "end": dt.datetime(2024, 3, 29, 10, 30),
    "timezone": "Europe/Berlin",
    "location": "Raum 1.02",
    "body": "Agenda:\n- Zahlen\n- Ziele",
    "reminder_minutes": 15,
    "categories": ["Kunde", "A-Kunde", "Kunde"],
    "sensitivity": "private",
    "show_as": "oof",
    "attendees": [{"email": "bob@acme.test"}, {"email": "amy@acme.test", "optional": True}],
    "recurrence": {"pattern": "weekly", "weekdays": ["friday", "monday"], "count": 10},
}

RECURRENCES: list[dict[str, Any]] = [
    {"pattern": "daily", "interval": 3, "until": "2024-06-30"},
    {"pattern": "weekly", "interval": 2, "weekdays": ["tuesday"], "first_day_of_week": "sunday"},
    {"pattern": "monthly", "interval": 1, "day_of_month": 31, "count": 12},
    {"pattern": "monthly_relative", "interval": 2, "week": "last", "weekday": "weekend_day"},
    {"pattern": "yearly", "day_of_month": 29, "month": 2},
    {"pattern": "yearly_relative", "week": "first", "weekday": "monday", "month": 9, "until": "2030-01-01"},
]


def _round_trip(fields: dict[str, Any]) -> dict[str, Any]:
    item = CalendarItem(**calendar.to_exchange(calendar.normalize(fields)))
    return calendar.to_erp(item)


def test_a_full_record_survives_the_round_trip() -> None:
    assert _round_trip(FULL) == calendar.normalize(FULL)


def test_normalize_is_idempotent_and_canonical() -> None:
    once = calendar.normalize(FULL)
    assert calendar.normalize(once) == once
    assert once["start"] == dt.datetime(2024, 3, 29, 9, 0, tzinfo=BERLIN)
    assert once["start"].utcoffset() == dt.timedelta(hours=1)
    assert once["categories"] == ["A-Kunde", "Kunde"]
    assert once["attendees"] == [
        {"email": "amy@acme.test", "optional": True},
        {"email": "bob@acme.test", "optional": False},
    ]
    assert once["recurrence"]["weekdays"] == ["monday", "friday"]
    assert once["recurrence"]["first_day_of_week"] == "monday"


def test_the_same_instants_with_other_offsets_have_one_fingerprint() -> None:
    as_utc = {**FULL, "start": "2024-03-29T08:00:00Z", "end": dt.datetime(2024, 3, 29, 9, 30, tzinfo=dt.UTC)}
    assert canonical_fingerprint(calendar.normalize(as_utc)) == canonical_fingerprint(
        calendar.normalize(FULL)
    )


@pytest.mark.parametrize("recurrence", RECURRENCES, ids=[r["pattern"] for r in RECURRENCES])
def test_every_recurrence_pattern_and_end_survives(recurrence: dict[str, Any]) -> None:
    fields = {**FULL, "start": dt.datetime(2024, 2, 29, 9), "end": dt.datetime(2024, 2, 29, 10)}
    fields["recurrence"] = recurrence
    assert _round_trip(fields) == calendar.normalize(fields)


def test_monthly_and_yearly_default_to_the_start_date() -> None:
    fields = {**FULL, "start": dt.datetime(2024, 5, 17, 9), "end": dt.datetime(2024, 5, 17, 10)}
    rec = calendar.normalize({**fields, "recurrence": {"pattern": "yearly"}})["recurrence"]
    assert (rec["day_of_month"], rec["month"], rec["interval"]) == (17, 5, 1)


def test_all_day_events_are_dates_with_an_inclusive_last_day() -> None:
    fields = {"subject": "Urlaub", "all_day": True, "start": "2024-12-24", "end": dt.date(2024, 12, 26)}
    once = calendar.normalize({**fields, "timezone": "Pacific/Auckland"})
    assert (once["start"], once["end"]) == (dt.date(2024, 12, 24), dt.date(2024, 12, 26))
    values = calendar.to_exchange(once)
    assert values["is_all_day"] is True
    assert values["_start_timezone"] == EWSTimeZone("Pacific/Auckland")
    assert _round_trip({**fields, "timezone": "Pacific/Auckland"}) == once
    one_day = calendar.normalize({"all_day": True, "start": dt.date(2024, 1, 1)})
    assert one_day["end"] == dt.date(2024, 1, 1)


def test_a_date_without_all_day_is_refused() -> None:
    with pytest.raises(RecordInvalid) as info:
        calendar.normalize({"start": dt.date(2024, 1, 1), "end": dt.date(2024, 1, 1)})
    assert info.value.field == "start"


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"start": None}, "start"),
        ({"end": dt.datetime(2024, 3, 29, 8)}, "end"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"sensitivity": "secret"}, "sensitivity"),
        ({"show_as": "away"}, "show_as"),
        ({"reminder_minutes": -5}, "reminder_minutes"),
        ({"attendees": [{"email": "not an address"}]}, "attendees[0].email"),
        ({"recurrence": {"pattern": "hourly"}}, "recurrence.pattern"),
        ({"recurrence": {"pattern": "weekly"}}, "recurrence.weekdays"),
        ({"recurrence": {"pattern": "daily", "count": 3, "until": "2025-01-01"}}, "recurrence"),
        ({"recurrence": {"pattern": "daily", "until": "2020-01-01"}}, "recurrence.until"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_records_name_the_field(fields: dict[str, Any], bad: str) -> None:
    with pytest.raises(RecordInvalid) as info:
        calendar.normalize({**FULL, **fields})
    assert info.value.field == bad


def test_zones_are_canonicalised_to_what_exchange_gives_back() -> None:
    assert timezones.canonical_zone("Europe/Copenhagen") == "Europe/Paris"
    assert timezones.canonical_zone("Etc/UTC") == "UTC"
    assert timezones.canonical_zone("US/Eastern") == "America/New_York"
    fields = calendar.normalize({**FULL, "timezone": "Europe/Copenhagen", "end_timezone": "Europe/Paris"})
    assert (fields["timezone"], fields["end_timezone"]) == ("Europe/Paris", None)
    assert calendar.normalize({"start": dt.datetime(2024, 1, 1, 9)})["timezone"] == "UTC"


@pytest.mark.parametrize(
    ("windows", "iana"),
    [
        ("Mitteleuropäische Zeit", "Europe/Berlin"),
        ("Mexico Standard Time", "America/Mexico_City"),
        ("Mexico Standard Time 2", "America/Chihuahua"),
        ("Mid-Atlantic Standard Time", "Etc/GMT+2"),
        ("Kamchatka Standard Time", "Asia/Kamchatka"),
        ("Armenian Standard Time", "Asia/Yerevan"),
    ],
)
def test_windows_ids_exchangelib_does_not_map_are_read(windows: str, iana: str) -> None:
    timezones.register()
    elem = etree.fromstring(
        f'<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
        f'<t:StartTimeZone Id="{windows}"/></t:CalendarItem>'
    )
    field = CalendarItem.get_field_by_fieldname("_start_timezone")
    assert isinstance(field, TimeZoneField)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exchangelib warns (and returns None) for unknown ids
        zone = field.from_xml(elem, account=None)
    assert zone is not None
    assert zone.key == iana
    assert timezones.iana_name(windows) == iana
    assert timezones.windows_id(iana)  # and it maps back to a Windows id Exchange stores


def test_an_unknown_windows_zone_is_read_as_utc() -> None:
    assert timezones.zone_of(None) == "UTC"
    assert timezones.iana_name("Customized Time Zone") is None


def test_html_bodies_from_outlook_come_back_as_text() -> None:
    item = CalendarItem(**calendar.to_exchange(calendar.normalize(FULL)))
    item.body = HTMLBody("<html><body><p>Hallo &amp; willkommen</p></body></html>")
    assert calendar.to_erp(item)["body"] == "Hallo & willkommen"


def test_an_event_in_two_zones_keeps_both() -> None:
    flight = {
        "subject": "FRA -> JFK",
        "start": dt.datetime(2024, 7, 1, 10, 0),
        "end": dt.datetime(2024, 7, 1, 12, 45),
        "timezone": "Europe/Berlin",
        "end_timezone": "America/New_York",
    }
    once = calendar.normalize(flight)
    assert once["end"].tzinfo == ZoneInfo("America/New_York")
    assert once["end"] - once["start"] == dt.timedelta(hours=8, minutes=45)
    assert _round_trip(flight) == once


zones = st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Pacific/Auckland", "UTC"])
moments = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2037, 12, 31))


@settings(max_examples=150, deadline=None)
@given(
    zone=zones,
    start=moments,
    minutes=st.integers(min_value=0, max_value=60 * 24 * 3),
    all_day=st.booleans(),
    reminder=st.none() | st.integers(min_value=0, max_value=10_000),
    attendees=st.lists(st.tuples(st.sampled_from(["a@x.test", "B@x.test", "c@y.test"]), st.booleans())),
)
def test_any_event_survives_the_round_trip(
    zone: str,
    start: dt.datetime,
    minutes: int,
    all_day: bool,
    reminder: int | None,
    attendees: list[tuple[str, bool]],
) -> None:
    end = start + dt.timedelta(minutes=minutes)
    fields: dict[str, Any] = {
        "start": start.date() if all_day else start,
        "end": end.date() if all_day else end,
        "all_day": all_day,
        "timezone": zone,
        "reminder_minutes": reminder,
        "attendees": [{"email": e, "optional": o} for e, o in attendees],
    }
    once = calendar.normalize(fields)
    assert calendar.normalize(once) == once
    assert _round_trip(fields) == once


def test_an_all_day_event_on_a_spring_forward_day_reads_its_own_dates() -> None:
    """exchangelib 5.6 alone reads 2024-03-31 (23 hours in Berlin) as ending on 2024-03-30."""
    xml = (
        '<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
        "<t:Start>2024-03-30T23:00:00Z</t:Start><t:End>2024-03-31T22:00:00Z</t:End>"
        "<t:IsAllDayEvent>true</t:IsAllDayEvent>"
        '<t:StartTimeZone Id="W. Europe Standard Time"/><t:EndTimeZone Id="W. Europe Standard Time"/>'
        "</t:CalendarItem>"
    )
    item = CalendarItem.from_xml(etree.fromstring(xml), account=None)
    assert (item.start, item.end) == (dt.date(2024, 3, 31), dt.date(2024, 3, 31))
    fields = calendar.to_erp(item)
    assert (fields["all_day"], fields["start"], fields["end"]) == (
        True,
        dt.date(2024, 3, 31),
        dt.date(2024, 3, 31),
    )
    calendar.install_all_day_fix()  # idempotent
    assert CalendarItem.from_xml(etree.fromstring(xml), account=None).end == dt.date(2024, 3, 31)


def test_moved_and_deleted_occurrences_are_read_from_the_master() -> None:
    from exchangelib.recurrence import DeletedOccurrence, Occurrence

    fields = calendar.normalize(FULL)
    item = CalendarItem(**calendar.to_exchange(fields))
    second = dt.datetime(2024, 4, 1, 7, 0, tzinfo=dt.UTC)  # 09:00 Berlin (summer time)
    item.modified_occurrences = [
        Occurrence(
            original_start=second, start=second + dt.timedelta(hours=5), end=second + dt.timedelta(hours=6)
        )
    ]
    item.deleted_occurrences = [DeletedOccurrence(start=dt.datetime(2024, 3, 28, 8, 0, tzinfo=dt.UTC))]
    rec = calendar.to_erp(item)["recurrence"]
    assert rec["moved"] == [
        {
            "original_start": dt.datetime(2024, 4, 1, 9, 0, tzinfo=BERLIN),
            "start": dt.datetime(2024, 4, 1, 14, 0, tzinfo=BERLIN),
            "end": dt.datetime(2024, 4, 1, 15, 0, tzinfo=BERLIN),
        }
    ]
    assert rec["deleted"] == [dt.datetime(2024, 3, 28, 9, 0, tzinfo=BERLIN)]
    assert "modified_occurrences" not in calendar.to_exchange(calendar.normalize({**FULL, "recurrence": rec}))


def test_exceptions_are_canonical_and_checked() -> None:
    rec = {
        "pattern": "daily",
        "moved": [
            {
                "original_start": "2024-04-03T09:00:00+02:00",
                "start": "2024-04-03T10:00",
                "end": "2024-04-03T11:00",
            },
            {
                "original_start": "2024-04-02T07:00:00Z",
                "start": "2024-04-02T12:00",
                "end": "2024-04-02T13:00",
            },
        ],
        "deleted": ["2024-04-05T09:00:00+02:00", "2024-04-04T07:00:00Z", "2024-04-05T07:00:00Z"],
    }
    once = calendar.normalize({**FULL, "recurrence": rec})["recurrence"]
    assert [m["original_start"].day for m in once["moved"]] == [2, 3]
    assert once["deleted"] == [
        dt.datetime(2024, 4, 4, 9, tzinfo=BERLIN),
        dt.datetime(2024, 4, 5, 9, tzinfo=BERLIN),
    ]
    assert calendar.normalize({**FULL, "recurrence": once})["recurrence"] == once
    with pytest.raises(RecordInvalid) as info:
        calendar.normalize(
            {**FULL, "recurrence": {"pattern": "daily", "moved": [{"start": "2024-04-02T12:00"}]}}
        )
    assert info.value.field == "recurrence.moved[0]"


def test_both_modules_register_their_item_type_through_our_hook() -> None:
    from erp_exchange_plugin.manager import BUILTIN_PLUGINS, ExtensionManager

    modules = (
        *BUILTIN_PLUGINS,
        "erp_exchange_plugin.item_types.calendar",
        "erp_exchange_plugin.item_types.tasks",
    )
    manager = ExtensionManager(entry_points=False, builtins=dict.fromkeys(modules))
    types = manager.item_types
    assert {"contacts", "calendar", "tasks"} <= set(types)
    assert (types["calendar"].erp_entity, types["tasks"].erp_entity) == ("appointment", "task")
