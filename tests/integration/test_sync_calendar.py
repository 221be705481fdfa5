"""The sync engine on calendar items, against the emulator (real SOAP over HTTPS) and the stub host.

"Outlook" here is a second, independent exchangelib client on alice's mailbox, with its own
default time zone: it creates and edits items the way a mail client does, over EWS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from exchangelib import (
    Attendee,
    CalendarItem,
    EWSDate,
    EWSDateTime,
    EWSTimeZone,
    HTMLBody,
    Mailbox,
)
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

from erp_exchange_plugin.ews import transport
from erp_exchange_plugin.item_types import calendar, tasks
from erp_exchange_plugin.settings import SECTION, ExchangeSettings
from erp_exchange_plugin.sync.report import RunReport
from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.client import MsalCredentials, connect, msal_app
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

from .conftest import ALICE

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
BOB = "bob@example.com"
Sync = Callable[[], RunReport]
Outlook = Callable[[str], Any]


WIDE_WINDOW = {"calendar": {"window_past_days": 3650, "window_future_days": 3650}}


@pytest.fixture(autouse=True)
def wide_window(erp: StubHost, emu: Emulator) -> None:
    """These tests use dates of 2024-2026: open the calendar's window (default 30 days back, 365 ahead)."""
    erp.set_tenant_settings(SECTION, emulator_tenant_settings(emu, item_types=WIDE_WINDOW))


@pytest.fixture
def pim_service(erp: StubHost) -> Iterator[SyncService]:
    """A sync service for the calendar and tasks item types."""
    svc = SyncService(erp, {"calendar": calendar.item_type(), "tasks": tasks.item_type()})
    yield svc
    svc.close()


@pytest.fixture
def sync(pim_service: SyncService, anna: ExchangeSettings) -> Sync:
    """Run one calendar sync for anna (and insist that it reports no per-item error)."""

    def run() -> RunReport:
        (report,) = pim_service.sync_user(anna, ["calendar"])
        assert report.errors == [], report.errors
        return report

    return run


@pytest.fixture
def outlook(emu: Emulator) -> Outlook:
    """Factory: another EWS client on alice's mailbox whose user lives in time zone ``tz``."""
    transport.install()
    transport.trust_ca_for(emu.ews_url, Path(emu.ca_file))
    credentials = MsalCredentials(msal_app(emu.authority, emu.client_id, emu.client_secret, emu.ca_file))

    def make(tz: str) -> Any:
        account = connect(ALICE, emu.ews_url, credentials)
        account.default_timezone = EWSTimeZone(tz)
        return account

    return make


def appointments(erp: StubHost) -> dict[str, Any]:
    store = erp.records("appointment", "anna")
    page = store.changes_since(None, 10_000)
    return {c.record.fields["subject"]: c.record for c in page.changes if c.record is not None}


def as_date(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def only_event(account: Any) -> Any:
    (item,) = list(account.calendar.all().only(*calendar.EWS_FIELDS, "type"))
    return item


FULL: dict[str, Any] = {
    "subject": "Jahresgespräch Müller",
    "start": dt.datetime(2024, 3, 25, 9, 0, tzinfo=BERLIN),
    "end": dt.datetime(2024, 3, 25, 10, 30, tzinfo=BERLIN),
    "timezone": "Europe/Berlin",
    "location": "Raum 1.02",
    "body": "Agenda:\n- Zahlen\n- Ziele",
    "reminder_minutes": 15,
    "categories": ["Kunde", "A-Kunde"],
    "sensitivity": "private",
    "show_as": "oof",
    "attendees": [{"email": BOB}, {"email": "amy@acme.test", "optional": True}],
    "recurrence": {"pattern": "weekly", "weekdays": ["monday", "thursday"], "count": 10},
}


def test_an_erp_appointment_arrives_field_by_field(
    erp: StubHost, emu: Emulator, sync: Sync, outlook: Outlook
) -> None:
    store = erp.records("appointment", "anna")
    record = store.put(None, FULL, None)
    report = sync()
    assert report.to_exchange.created == 1
    assert report.to_erp.updated == 0  # the echo of our own write changed nothing
    item = only_event(outlook("America/New_York"))
    assert item.subject == "Jahresgespräch Müller"
    assert item.start == EWSDateTime(2024, 3, 25, 8, 0, tzinfo=EWSTimeZone("UTC"))
    assert item.end - item.start == dt.timedelta(minutes=90)
    assert item._start_timezone.ms_id == item._end_timezone.ms_id == "W. Europe Standard Time"
    assert item.location == "Raum 1.02"
    assert str(item.body) == "Agenda:\n- Zahlen\n- Ziele"
    assert (item.reminder_is_set, item.reminder_minutes_before_start) == (True, 15)
    assert sorted(item.categories) == ["A-Kunde", "Kunde"]
    assert (item.sensitivity, item.legacy_free_busy_status) == ("Private", "OOF")
    assert [a.mailbox.email_address for a in item.required_attendees] == [BOB]
    assert [a.mailbox.email_address for a in item.optional_attendees] == ["amy@acme.test"]
    assert item.type == "RecurringMaster"
    assert isinstance(item.recurrence.pattern, WeeklyPattern)
    assert item.recurrence.pattern.weekdays == [1, 4]
    assert isinstance(item.recurrence.boundary, NumberedPattern)
    boundary_start = (
        item.recurrence.boundary.start
    )  # a date; exchangelib reads an offset-less one as midnight UTC
    assert (as_date(boundary_start), item.recurrence.boundary.number) == (dt.date(2024, 3, 25), 10)
    assert store.get(record.record_id).version == record.version  # type: ignore[union-attr]


def test_an_outlook_event_arrives_in_the_erp_field_by_field(
    erp: StubHost, sync: Sync, outlook: Outlook
) -> None:
    account = outlook("America/New_York")
    ny = EWSTimeZone("America/New_York")
    start = EWSDateTime(2024, 7, 4, 17, 0, tzinfo=ny)
    CalendarItem(
        folder=account.calendar,
        subject="Board call",
        start=start,
        end=start + dt.timedelta(hours=1),
        location="Zoom",
        body=HTMLBody("<html><body><p>Dial-in &amp; agenda</p></body></html>"),
        reminder_is_set=True,
        reminder_minutes_before_start=30,
        categories=["Board"],
        sensitivity="Confidential",
        legacy_free_busy_status="Tentative",
        optional_attendees=[Attendee(mailbox=Mailbox(email_address="cfo@acme.test"))],
        recurrence=Recurrence(
            pattern=RelativeMonthlyPattern(interval=1, weekday=4, week_number=1),
            boundary=EndDatePattern(start=EWSDate(2024, 7, 4), end=EWSDate(2024, 12, 31)),
        ),
    ).save()
    report = sync()
    assert report.to_erp.created == 1
    record = appointments(erp)["Board call"]
    assert record.fields == {
        "subject": "Board call",
        "all_day": False,
        "start": dt.datetime(2024, 7, 4, 17, 0, tzinfo=NEW_YORK),
        "end": dt.datetime(2024, 7, 4, 18, 0, tzinfo=NEW_YORK),
        "timezone": "America/New_York",
        "end_timezone": None,
        "location": "Zoom",
        "body": "Dial-in & agenda",
        "reminder_minutes": 30,
        "categories": ["Board"],
        "sensitivity": "confidential",
        "show_as": "tentative",
        "attendees": [{"email": "cfo@acme.test", "optional": True}],
        "recurrence": {
            "pattern": "monthly_relative",
            "interval": 1,
            "weekdays": None,
            "first_day_of_week": None,
            "day_of_month": None,
            "month": None,
            "week": "first",
            "weekday": "thursday",
            "until": dt.date(2024, 12, 31),
            "count": None,
            "moved": [],
            "deleted": [],
        },
    }
    assert record.fields["start"].utcoffset() == dt.timedelta(hours=-4)
    quiet = sync()
    assert (quiet.to_exchange.updated, quiet.to_erp.updated, quiet.requests) == (0, 0, 1)


def test_edits_flow_both_ways_without_echo(erp: StubHost, sync: Sync, outlook: Outlook) -> None:
    store = erp.records("appointment", "anna")
    record = store.put(None, {**FULL, "recurrence": None}, None)
    sync()
    current = store.get(record.record_id)
    assert current is not None
    store.put(
        record.record_id, {**current.fields, "location": "Raum 2.01", "show_as": "busy"}, current.version
    )
    report = sync()
    assert (report.to_exchange.updated, report.to_erp.updated) == (1, 0)
    account = outlook("Europe/Berlin")
    item = only_event(account)
    assert (item.location, item.legacy_free_busy_status) == ("Raum 2.01", "Busy")
    item.start += dt.timedelta(hours=2)
    item.end += dt.timedelta(hours=2)
    item.save(update_fields=["start", "end"])
    report = sync()
    assert (report.to_exchange.updated, report.to_erp.updated) == (0, 1)
    moved = store.get(record.record_id)
    assert moved is not None
    assert moved.fields["start"] == dt.datetime(2024, 3, 25, 11, 0, tzinfo=BERLIN)
    assert moved.fields["location"] == "Raum 2.01"
    quiet = sync()
    assert (quiet.to_exchange.updated, quiet.to_erp.updated, quiet.conflicts) == (0, 0, [])


def test_events_across_a_daylight_saving_change(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("appointment", "anna")
    # Berlin springs forward on 2024-03-31 at 02:00: 01:30 CET -> 03:30 CEST is one hour
    store.put(
        None,
        {"subject": "Berlin night", "start": dt.datetime(2024, 3, 31, 1, 30), "end": dt.datetime(2024, 3, 31, 3, 30),
         "timezone": "Europe/Berlin"},
        None,
    )  # fmt: skip
    # New York falls back on 2024-11-03 at 02:00: 00:30 EDT -> 03:00 EST is three and a half hours
    store.put(
        None,
        {"subject": "NY night", "start": dt.datetime(2024, 11, 3, 0, 30), "end": dt.datetime(2024, 11, 3, 3, 0),
         "timezone": "America/New_York"},
        None,
    )  # fmt: skip
    # a weekly series at 09:00 Berlin from winter into summer: Exchange expands it in its zone
    store.put(
        None,
        {"subject": "Weekly", "start": dt.datetime(2024, 3, 25, 9), "end": dt.datetime(2024, 3, 25, 9, 30),
         "timezone": "Europe/Berlin", "recurrence": {"pattern": "weekly", "weekdays": ["monday"], "count": 4}},
        None,
    )  # fmt: skip
    report = sync()
    assert report.to_exchange.created == 3
    assert report.to_erp.updated == 0
    ex = {v.fields["Subject"]: v.fields for v in emu.items(ALICE, "calendar")}
    assert (ex["Berlin night"]["Start"], ex["Berlin night"]["End"]) == (
        "2024-03-31T00:30:00Z",
        "2024-03-31T01:30:00Z",
    )
    assert (ex["NY night"]["Start"], ex["NY night"]["End"]) == (
        "2024-11-03T04:30:00Z",
        "2024-11-03T08:00:00Z",
    )
    assert ex["Weekly"]["Start"] == "2024-03-25T08:00:00Z"
    records = appointments(erp)
    assert records["Berlin night"].fields["end"] == dt.datetime(2024, 3, 31, 3, 30)  # as the ERP wrote it
    quiet = sync()
    assert (quiet.to_exchange.updated, quiet.to_erp.updated, quiet.requests) == (0, 0, 1)


def test_an_outlook_series_in_new_york_keeps_its_zone_across_the_change(
    erp: StubHost, sync: Sync, outlook: Outlook
) -> None:
    ny = EWSTimeZone("America/New_York")
    start = EWSDateTime(2024, 10, 28, 9, 0, tzinfo=ny)  # EDT; the series runs into EST
    account = outlook("America/New_York")
    CalendarItem(
        folder=account.calendar,
        subject="Standup",
        start=start,
        end=start + dt.timedelta(minutes=15),
        recurrence=Recurrence(pattern=DailyPattern(interval=1), boundary=NoEndPattern(start=start.date())),
    ).save()
    sync()
    fields = appointments(erp)["Standup"].fields
    assert (fields["start"], fields["timezone"]) == (
        dt.datetime(2024, 10, 28, 9, tzinfo=NEW_YORK),
        "America/New_York",
    )
    assert fields["recurrence"]["pattern"] == "daily"
    assert (fields["recurrence"]["until"], fields["recurrence"]["count"]) == (None, None)


def test_all_day_events_keep_their_dates_from_any_zone(
    erp: StubHost, emu: Emulator, sync: Sync, outlook: Outlook
) -> None:
    store = erp.records("appointment", "anna")
    store.put(
        None,
        {"subject": "Betriebsferien", "all_day": True, "start": dt.date(2024, 12, 24), "end": dt.date(2024, 12, 26),
         "timezone": "Europe/Berlin"},
        None,
    )  # fmt: skip
    tokyo = outlook("Asia/Tokyo")
    CalendarItem(
        folder=tokyo.calendar,
        subject="Shogatsu",
        start=EWSDate(2025, 1, 1),
        end=EWSDate(2025, 1, 3),
        is_all_day=True,
        _start_timezone=EWSTimeZone("Asia/Tokyo"),
        _end_timezone=EWSTimeZone("Asia/Tokyo"),
    ).save()
    sync()
    raw = {v.fields["Subject"]: v.fields for v in emu.items(ALICE, "calendar")}
    assert raw["Betriebsferien"]["Start"] == "2024-12-23T23:00:00Z"  # local midnight in Berlin
    assert raw["Betriebsferien"]["End"] == "2024-12-26T23:00:00Z"  # the midnight after the last day
    assert raw["Shogatsu"]["Start"] == "2024-12-31T15:00:00Z"  # midnight in Tokyo, the day before in UTC
    seen_in_new_york = {i.subject: i for i in outlook("America/New_York").calendar.all()}
    holiday = seen_in_new_york["Betriebsferien"]
    assert holiday.is_all_day
    assert (holiday.start, holiday.end) == (EWSDate(2024, 12, 24), EWSDate(2024, 12, 26))
    erp_side = appointments(erp)["Shogatsu"].fields
    assert (erp_side["all_day"], erp_side["start"], erp_side["end"]) == (
        True,
        dt.date(2025, 1, 1),
        dt.date(2025, 1, 3),
    )
    assert erp_side["timezone"] == "Asia/Tokyo"
    quiet = sync()
    assert (quiet.to_exchange.updated, quiet.to_erp.updated, quiet.requests) == (0, 0, 1)


PATTERNS: list[tuple[dict[str, Any], type]] = [
    ({"pattern": "daily", "interval": 2, "until": "2024-06-30"}, DailyPattern),
    ({"pattern": "weekly", "weekdays": ["tuesday", "friday"], "first_day_of_week": "sunday"}, WeeklyPattern),
    ({"pattern": "monthly", "day_of_month": 31, "count": 6}, AbsoluteMonthlyPattern),
    ({"pattern": "monthly_relative", "week": "last", "weekday": "weekday"}, RelativeMonthlyPattern),
    ({"pattern": "yearly", "count": 3}, AbsoluteYearlyPattern),
    (
        {"pattern": "yearly_relative", "week": "second", "weekday": "sunday", "month": 5},
        RelativeYearlyPattern,
    ),
]


def test_every_recurrence_pattern_goes_out_and_comes_back_unchanged(
    erp: StubHost, sync: Sync, outlook: Outlook
) -> None:
    store = erp.records("appointment", "anna")
    for rec, _cls in PATTERNS:
        store.put(
            None,
            {"subject": f"series {rec['pattern']}", "start": dt.datetime(2024, 5, 31, 8), "end": dt.datetime(2024, 5, 31, 9),
             "timezone": "Europe/London", "recurrence": rec},
            None,
        )  # fmt: skip
    report = sync()
    assert report.to_exchange.created == len(PATTERNS)
    assert report.to_erp.updated == 0
    items = {i.subject: i for i in outlook("UTC").calendar.all().only("subject", "recurrence")}
    for rec, cls in PATTERNS:
        assert isinstance(items[f"series {rec['pattern']}"].recurrence.pattern, cls)
    # Outlook renames every series: the patterns come back to the ERP exactly as they were
    before = {name: r.fields["recurrence"] for name, r in appointments(erp).items()}
    for item in items.values():
        item.subject = item.subject.upper()
        item.save(update_fields=["subject"])
    report = sync()
    assert report.to_erp.updated == len(PATTERNS)
    after = {name.lower(): r.fields["recurrence"] for name, r in appointments(erp).items()}
    assert after == {name: calendar.normalize({"start": dt.datetime(2024, 5, 31, 8), "recurrence": rec})["recurrence"]
                     for name, rec in ((f"series {r['pattern']}", r) for r, _ in PATTERNS)}  # fmt: skip
    assert set(before) == set(after)


def test_deletes_flow_both_ways(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("appointment", "anna")
    recs = [
        store.put(None, {**FULL, "subject": f"Termin {i}", "recurrence": None, "attendees": []}, None)
        for i in range(4)
    ]
    sync()
    store.delete(recs[0].record_id, None)
    report = sync()
    assert report.to_exchange.deleted == 1
    victim = next(v for v in emu.items(ALICE, "calendar") if v.fields["Subject"] == "Termin 1")
    emu.delete_item(ALICE, victim.item_id)
    report = sync()
    assert report.to_erp.deleted == 1
    assert sorted(appointments(erp)) == ["Termin 2", "Termin 3"]


def test_syncing_never_sends_invitations_or_cancellations(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("appointment", "anna")
    record = store.put(None, {**FULL, "attendees": [{"email": BOB}]}, None)
    emu.request_log.clear()
    sync()
    current = store.get(record.record_id)
    assert current is not None
    store.put(record.record_id, {**current.fields, "subject": "Moved", "attendees": []}, current.version)
    sync()
    store.delete(record.record_id, None)
    sync()
    writes = [
        e for e in emu.request_log.entries() if e.operation in ("CreateItem", "UpdateItem", "DeleteItem")
    ]
    assert {e.operation for e in writes} == {"CreateItem", "UpdateItem", "DeleteItem"}
    for entry in writes:
        asked = {k: v for k, v in entry.attributes.items() if k.startswith("SendMeeting")}
        assert asked, entry
        assert set(asked.values()) == {"SendToNone"}, entry
    assert emu.items(BOB, "inbox") == []


def test_a_no_change_run_costs_one_request_per_folder(
    erp: StubHost, emu: Emulator, pim_service: SyncService, anna: ExchangeSettings, outlook: Outlook
) -> None:
    erp.records("appointment", "anna").put(None, FULL, None)
    erp.records("task", "anna").put(
        None, {"subject": "Call back", "status": "in_progress", "percent_complete": 20}, None
    )
    account = outlook("Europe/Berlin")
    start = EWSDateTime(2024, 4, 2, 10, tzinfo=EWSTimeZone("Europe/Berlin"))
    CalendarItem(
        folder=account.calendar, subject="From Outlook", start=start, end=start + dt.timedelta(hours=1)
    ).save()
    first = pim_service.sync_user(anna)
    assert [(r.item_type, r.to_exchange.created, r.to_erp.created) for r in first] == [
        ("calendar", 1, 1),
        ("tasks", 1, 0),
    ]
    emu.request_log.clear()
    second = pim_service.sync_user(anna)
    for report in second:
        assert (report.to_exchange.created, report.to_exchange.updated, report.to_exchange.deleted) == (
            0,
            0,
            0,
        )
        assert (report.to_erp.created, report.to_erp.updated, report.to_erp.deleted) == (0, 0, 0)
        assert (report.requests, report.conflicts, report.errors) == (1, [], [])
    assert emu.request_log.counts() == {"SyncFolderItems": 2}


def test_all_day_events_on_daylight_saving_days_keep_their_dates(
    erp: StubHost, emu: Emulator, sync: Sync, outlook: Outlook
) -> None:
    store = erp.records("appointment", "anna")
    # 2024-03-31 has 23 hours in Berlin, 2024-11-03 has 25 in New York
    store.put(
        None,
        {"subject": "Zeitumstellung", "all_day": True, "start": dt.date(2024, 3, 31), "end": dt.date(2024, 3, 31),
         "timezone": "Europe/Berlin"},
        None,
    )  # fmt: skip
    CalendarItem(
        folder=outlook("America/New_York").calendar,
        subject="Fall back",
        start=EWSDate(2024, 11, 2),
        end=EWSDate(2024, 11, 3),
        is_all_day=True,
        _start_timezone=EWSTimeZone("America/New_York"),
        _end_timezone=EWSTimeZone("America/New_York"),
    ).save()
    report = sync()
    assert (report.to_exchange.created, report.to_erp.created, report.to_erp.updated) == (1, 1, 0)
    raw = {v.fields["Subject"]: v.fields for v in emu.items(ALICE, "calendar")}
    assert (raw["Zeitumstellung"]["Start"], raw["Zeitumstellung"]["End"]) == (
        "2024-03-30T23:00:00Z",
        "2024-03-31T22:00:00Z",
    )
    fall = appointments(erp)["Fall back"].fields
    assert (fall["start"], fall["end"]) == (dt.date(2024, 11, 2), dt.date(2024, 11, 3))
    seen = {i.subject: i for i in outlook("Asia/Tokyo").calendar.all()}
    assert (seen["Zeitumstellung"].start, seen["Zeitumstellung"].end) == (
        dt.date(2024, 3, 31),
        dt.date(2024, 3, 31),
    )
    quiet = sync()
    assert (quiet.to_exchange.updated, quiet.to_erp.updated, quiet.requests) == (0, 0, 1)


def test_a_series_with_one_occurrence_moved_and_one_deleted(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    store = erp.records("appointment", "anna")
    record = store.put(
        None,
        {"subject": "Jour fixe", "start": dt.datetime(2024, 3, 18, 9), "end": dt.datetime(2024, 3, 18, 10),
         "timezone": "Europe/Berlin", "recurrence": {"pattern": "weekly", "weekdays": ["monday"], "count": 6}},
        None,
    )  # fmt: skip
    sync()
    (master,) = emu.items(ALICE, "calendar")
    # in Outlook: the 2nd occurrence (25 March, winter time) moves to the afternoon, the 3rd
    # (1 April, summer time) is deleted
    second = dt.datetime(2024, 3, 25, 8, 0, tzinfo=dt.UTC)
    third = dt.datetime(2024, 4, 1, 7, 0, tzinfo=dt.UTC)
    emu.update_item(
        ALICE,
        master.item_id,
        {
            "ModifiedOccurrences": [(second, second + dt.timedelta(hours=6), second + dt.timedelta(hours=7))],
            "DeletedOccurrences": [third],
        },
    )
    report = sync()
    assert (report.to_erp.updated, report.to_exchange.updated) == (1, 0)
    rec = store.get(record.record_id).fields["recurrence"]  # type: ignore[union-attr]
    assert rec["moved"] == [
        {
            "original_start": dt.datetime(2024, 3, 25, 9, tzinfo=BERLIN),
            "start": dt.datetime(2024, 3, 25, 15, tzinfo=BERLIN),
            "end": dt.datetime(2024, 3, 25, 16, tzinfo=BERLIN),
        }
    ]
    assert rec["deleted"] == [dt.datetime(2024, 4, 1, 9, tzinfo=BERLIN)]
    quiet = sync()
    assert (quiet.to_erp.updated, quiet.to_exchange.updated, quiet.requests) == (0, 0, 1)

    # Outlook moves the occurrence once more: the ERP follows
    emu.update_item(
        ALICE,
        master.item_id,
        {"ModifiedOccurrences": [(second, second + dt.timedelta(hours=1), second + dt.timedelta(hours=2))]},
    )
    assert sync().to_erp.updated == 1
    rec = store.get(record.record_id).fields["recurrence"]  # type: ignore[union-attr]
    assert rec["moved"][0]["start"] == dt.datetime(2024, 3, 25, 10, tzinfo=BERLIN)

    # the ERP edits the series: written to Exchange, the exceptions stay as they are on both sides
    current = store.get(record.record_id)
    assert current is not None
    store.put(record.record_id, {**current.fields, "location": "Raum 3"}, current.version)
    report = sync()
    assert (report.to_exchange.updated, report.to_erp.updated, report.conflicts) == (1, 0, [])
    after = emu.item(ALICE, master.item_id)
    assert after is not None
    assert after.fields["Location"] == "Raum 3"
    assert after.fields["DeletedOccurrences"] == ["2024-04-01T07:00:00Z"]

    # the ERP deletes another occurrence itself: not writable through EWS's master item, so the
    # same run puts Exchange's list back (and says so by updating the ERP record)
    current = store.get(record.record_id)
    assert current is not None
    wanted = {
        **current.fields["recurrence"],
        "deleted": [*rec["deleted"], dt.datetime(2024, 4, 8, 9, tzinfo=BERLIN)],
    }
    store.put(record.record_id, {**current.fields, "recurrence": wanted}, current.version)
    report = sync()
    assert report.to_erp.updated == 1
    final = store.get(record.record_id)
    assert final is not None
    assert final.fields["recurrence"]["deleted"] == [dt.datetime(2024, 4, 1, 9, tzinfo=BERLIN)]
    quiet = sync()
    assert (quiet.to_erp.updated, quiet.to_exchange.updated, quiet.requests) == (0, 0, 1)


def test_a_dropped_connection_after_create_leaves_no_duplicate_event_or_task(
    erp: StubHost, emu: Emulator, pim_service: SyncService, anna: ExchangeSettings
) -> None:
    erp.records("appointment", "anna").put(None, FULL, None)
    erp.records("appointment", "anna").put(
        None,
        {"subject": "Ganztags", "all_day": True, "start": dt.date(2024, 3, 31), "timezone": "Europe/Berlin"},
        None,
    )
    erp.records("task", "anna").put(None, {"subject": "Nachfassen", "status": "completed"}, None)
    emu.inject("drop_after", operation="CreateItem", count=2)
    for name in ("calendar", "tasks"):
        with pytest.raises(Exception):  # noqa: B017, PT011 - the connection dropped: whatever the client raises
            pim_service.sync_user(anna, [name])
    assert (len(emu.items(ALICE, "calendar")), len(emu.items(ALICE, "tasks"))) == (2, 1)  # applied
    reports = pim_service.sync_user(anna)
    assert [(r.item_type, r.recovered, r.to_exchange.created, r.errors) for r in reports] == [
        ("calendar", 2, 0, []),
        ("tasks", 1, 0, []),
    ]
    assert (len(emu.items(ALICE, "calendar")), len(emu.items(ALICE, "tasks"))) == (2, 1)
    for report in pim_service.sync_user(anna):
        assert (report.to_exchange.created, report.to_exchange.updated, report.to_erp.updated) == (0, 0, 0)


def test_a_localised_windows_zone_id_from_another_client_is_understood(
    erp: StubHost, emu: Emulator, sync: Sync, outlook: Outlook
) -> None:
    german = EWSTimeZone.no_cache("Europe/Berlin")  # not the shared cached instance
    german.ms_id, german.ms_name = (
        "Mitteleuropäische Zeit",
        "",
    )  # a German third-party client (exchangelib#1197)
    start = EWSDateTime(2024, 7, 1, 9, 0, tzinfo=EWSTimeZone("Europe/Berlin"))
    CalendarItem(
        folder=outlook("Europe/Berlin").calendar,
        subject="Lokalisiert",
        start=start,
        end=start + dt.timedelta(hours=1),
        _start_timezone=german,
        _end_timezone=german,
    ).save()
    sync()
    fields = appointments(erp)["Lokalisiert"].fields
    assert (fields["start"], fields["timezone"]) == (
        dt.datetime(2024, 7, 1, 9, tzinfo=BERLIN),
        "Europe/Berlin",
    )


def test_switching_all_day_on_and_off_on_either_side(
    erp: StubHost, emu: Emulator, sync: Sync, outlook: Outlook
) -> None:
    store = erp.records("appointment", "anna")
    record = store.put(None, {**FULL, "recurrence": None, "attendees": []}, None)
    sync()
    current = store.get(record.record_id)
    assert current is not None
    store.put(
        record.record_id,
        {**current.fields, "all_day": True, "start": dt.date(2024, 3, 25), "end": dt.date(2024, 3, 26)},
        current.version,
    )
    assert sync().to_exchange.updated == 1
    item = only_event(outlook("America/New_York"))
    assert (item.is_all_day, item.start, item.end) == (True, dt.date(2024, 3, 25), dt.date(2024, 3, 26))
    berlin = EWSTimeZone("Europe/Berlin")
    item.is_all_day = False
    item.start = EWSDateTime(2024, 3, 26, 14, 0, tzinfo=berlin)
    item.end = EWSDateTime(2024, 3, 26, 15, 0, tzinfo=berlin)
    item.save(update_fields=["is_all_day", "start", "end"])
    assert sync().to_erp.updated == 1
    got = store.get(record.record_id)
    assert got is not None
    assert (got.fields["all_day"], got.fields["start"]) == (
        False,
        dt.datetime(2024, 3, 26, 14, tzinfo=BERLIN),
    )
    quiet = sync()
    assert (quiet.to_exchange.updated, quiet.to_erp.updated, quiet.requests) == (0, 0, 1)
