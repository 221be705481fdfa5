"""Calendar items (all-day, recurrence, CalendarView), tasks, and mail (delivered MIME, send, move, trash)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import requests
from exchangelib import Attendee, CalendarItem, EWSDate, EWSDateTime, EWSTimeZone, Mailbox, Message, Task
from exchangelib.recurrence import Recurrence, WeeklyPattern

from erp_exchange_plugin.testing.emulator.client import trusting_session

from .conftest import ALICE, BOB

BERLIN = EWSTimeZone("Europe/Berlin")

RAW = (
    b"From: Sender <sender@example.net>\r\n"
    b"To: alice@example.com\r\n"
    b"Subject: Invoice 4711\r\n"
    b"Message-ID: <4711@example.net>\r\n"
    b"Date: Mon, 03 Jun 2024 10:00:00 +0000\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Please pay.\r\n"
)


def test_calendar_item_with_recurrence_round_trip(account: Any, emu: Any) -> None:
    acc = account()
    start = EWSDateTime(2024, 6, 3, 9, 0, tzinfo=BERLIN)
    item = CalendarItem(
        folder=acc.calendar,
        subject="Weekly sync",
        start=start,
        end=start + dt.timedelta(hours=1),
        location="Room 1",
        erp_id="APT-1",
        recurrence=Recurrence(
            pattern=WeeklyPattern(interval=1, weekdays=["Monday"]), start=start.date(), number=10
        ),
        required_attendees=[Attendee(mailbox=Mailbox(email_address=BOB))],
        reminder_is_set=True,
        reminder_minutes_before_start=15,
    )
    item.save()
    got = acc.calendar.get(id=item.id)
    assert got.subject == "Weekly sync"
    assert got.start == start
    assert got.end == start + dt.timedelta(hours=1)
    assert got.erp_id == "APT-1"
    assert got.type == "RecurringMaster"
    assert got.recurrence.pattern.weekdays == [1]
    assert got.recurrence.boundary.number == 10
    assert got.reminder_minutes_before_start == 15
    assert got.uid
    got.subject = "Weekly sync (moved)"
    got.save(update_fields=["subject"])
    assert emu.items(ALICE, "calendar")[0].fields["Subject"] == "Weekly sync (moved)"
    got.delete()
    assert emu.items(ALICE, "calendar") == []


def test_all_day_event(account: Any) -> None:
    acc = account()
    item = CalendarItem(
        folder=acc.calendar,
        subject="Holiday",
        start=EWSDate(2024, 12, 24),
        end=EWSDate(2024, 12, 25),
        is_all_day=True,
    )
    item.save()
    got = acc.calendar.get(id=item.id)
    assert got.is_all_day is True
    assert (got.start, got.end) == (EWSDate(2024, 12, 24), EWSDate(2024, 12, 25))


def test_calendar_view(account: Any) -> None:
    acc = account()
    for day in (1, 10, 20):
        start = EWSDateTime(2024, 6, day, 9, 0, tzinfo=BERLIN)
        CalendarItem(
            folder=acc.calendar, subject=f"day {day}", start=start, end=start + dt.timedelta(hours=1)
        ).save()
    view = acc.calendar.view(
        start=EWSDateTime(2024, 6, 5, tzinfo=BERLIN), end=EWSDateTime(2024, 6, 25, tzinfo=BERLIN)
    )
    assert [i.subject for i in view] == ["day 10", "day 20"]


def test_task_round_trip(account: Any) -> None:
    acc = account()
    task = Task(
        folder=acc.tasks,
        subject="Call back",
        status="InProgress",
        percent_complete=Decimal(40),
        due_date=EWSDate(2024, 7, 1),
        erp_id="T-1",
    )
    task.save()
    got = acc.tasks.get(id=task.id)
    assert (got.subject, got.status, got.percent_complete, got.due_date, got.erp_id) == (
        "Call back", "InProgress", Decimal(40), EWSDate(2024, 7, 1), "T-1",
    )  # fmt: skip
    assert got.is_complete is False
    got.status = "Completed"
    got.percent_complete = Decimal(100)
    got.save(update_fields=["status", "percent_complete"])
    again = acc.tasks.get(id=task.id)
    assert again.is_complete is True
    assert next(iter(acc.tasks.filter(erp_id="T-1"))).id == task.id


def test_delivered_message_via_admin_api_and_its_mime(account: Any, emu: Any) -> None:
    session = trusting_session(emu.ca_file)
    response = session.post(f"{emu.admin_url}/mailboxes/{ALICE}/messages", data=RAW)
    assert response.status_code == 201
    item_id = response.json()["item_id"]
    acc = account()
    [msg] = list(acc.inbox.all().only("mime_content", "subject", "is_read", "message_id", "author"))
    assert msg.id == item_id
    assert msg.mime_content == RAW
    assert msg.subject == "Invoice 4711"
    assert msg.is_read is False
    assert msg.message_id == "<4711@example.net>"
    full = acc.inbox.get(id=item_id)
    assert full.author.email_address == "sender@example.net"
    assert full.body == "Please pay.\r\n" or full.body.strip() == "Please pay."


def test_unread_filter_sort_mark_read_and_move_to_trash(account: Any, emu: Any) -> None:
    for n in range(3):
        emu.deliver(ALICE, RAW.replace(b"Invoice 4711", f"Mail {n}".encode()))
    acc = account()
    unread = list(acc.inbox.filter(is_read=False).order_by("-datetime_received"))
    assert len(unread) == 3
    first = unread[0]
    first.is_read = True
    first.save(update_fields=["is_read"])
    assert acc.inbox.filter(is_read=False).count() == 2
    first.move(acc.trash)
    assert acc.inbox.all().count() == 2
    assert [m.subject for m in acc.trash.all()] == [first.subject]
    second = unread[1]
    second.move_to_trash()
    assert acc.trash.all().count() == 2
    third = unread[2]
    third.soft_delete()
    assert acc.inbox.all().count() == 0
    assert [v.fields["Subject"] for v in emu.items(ALICE, "recoverableitemsdeletions")] == [third.subject]


def test_send_message_to_another_mailbox(account: Any, emu: Any) -> None:
    acc = account()
    Message(account=acc, subject="Hello Bob", body="Hi!", to_recipients=[BOB]).send_and_save()
    assert [m.subject for m in account(BOB).inbox.all()] == ["Hello Bob"]
    assert [v.fields["Subject"] for v in emu.items(ALICE, "sentitems")] == ["Hello Bob"]


def test_admin_api_edits_and_faults(emu: Any) -> None:
    session: requests.Session = trusting_session(emu.ca_file)
    base = emu.admin_url
    created = session.post(
        f"{base}/mailboxes/{ALICE}/folders/contacts/items", json={"fields": {"DisplayName": "Via HTTP"}}
    )
    assert created.status_code == 201
    item_id = created.json()["item_id"]
    patched = session.patch(
        f"{base}/mailboxes/{ALICE}/items/{requests.utils.quote(item_id, safe='')}",
        json={"fields": {"JobTitle": "Boss"}},
    )
    assert patched.status_code == 200
    listed = session.get(f"{base}/mailboxes/{ALICE}/folders/contacts/items").json()
    assert listed[0]["fields"]["JobTitle"] == "Boss"
    assert session.post(f"{base}/faults", json={"kind": "server_busy", "count": 2}).status_code == 201
    assert len(session.get(f"{base}/faults").json()) == 1
    assert session.delete(f"{base}/faults").status_code == 204
    assert (
        session.delete(f"{base}/mailboxes/{ALICE}/items/{requests.utils.quote(item_id, safe='')}").status_code
        == 204
    )
    assert emu.items(ALICE, "contacts") == []
    log = session.get(f"{base}/requests").json()
    assert isinstance(log["counts"], dict)
    info = session.get(base).json()
    assert info["ews_url"] == emu.ews_url
    assert "client_secret" not in json.dumps(info)
    assert session.get(f"{base}/nope").status_code == 404


def test_calendar_view_expands_recurring_series_across_dst(account: Any, emu: Any) -> None:
    acc = account()
    start = EWSDateTime(2024, 3, 18, 9, 0, tzinfo=BERLIN)  # DST starts on 31 March
    master = CalendarItem(
        folder=acc.calendar,
        subject="Standup",
        start=start,
        end=start + dt.timedelta(minutes=15),
        recurrence=Recurrence(
            pattern=WeeklyPattern(interval=1, weekdays=["Monday"]), start=start.date(), number=4
        ),
    )
    master.save()
    window = acc.calendar.view(
        start=EWSDateTime(2024, 3, 1, tzinfo=BERLIN), end=EWSDateTime(2024, 5, 1, tzinfo=BERLIN)
    )
    occurrences = list(window)
    assert [o.start.astimezone(BERLIN).strftime("%m-%d %H:%M") for o in occurrences] == [
        "03-18 09:00", "03-25 09:00", "04-01 09:00", "04-08 09:00",
    ]  # fmt: skip
    assert {o.type for o in occurrences} == {"Occurrence"}
    third = master.occurrence(index=3)
    third.refresh()
    assert third.start.astimezone(BERLIN).strftime("%m-%d %H:%M") == "04-01 09:00"
    assert third.id == occurrences[2].id
    occurrences[1].delete()
    again = acc.calendar.get(id=master.id)
    assert [d.start.astimezone(BERLIN).strftime("%m-%d") for d in again.deleted_occurrences] == ["03-25"]
    assert again.last_occurrence.start.astimezone(BERLIN).strftime("%m-%d %H:%M") == "04-08 09:00"
    assert (
        len(
            list(
                acc.calendar.view(
                    start=EWSDateTime(2024, 3, 1, tzinfo=BERLIN), end=EWSDateTime(2024, 5, 1, tzinfo=BERLIN)
                )
            )
        )
        == 3
    )


def test_delivered_message_with_attachment(account: Any, emu: Any) -> None:
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@example.net", ALICE, "With attachment"
    mail.set_content("see attached")
    mail.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf")
    raw = mail.as_bytes()
    item_id = emu.deliver(ALICE, raw)
    msg = account().inbox.get(id=item_id)
    assert msg.has_attachments is True
    assert msg.mime_content == raw


def test_modified_occurrence_becomes_an_exception(account: Any, emu: Any) -> None:
    acc = account()
    start = EWSDateTime(2024, 6, 3, 9, 0, tzinfo=BERLIN)
    master = CalendarItem(
        folder=acc.calendar,
        subject="Series",
        start=start,
        end=start + dt.timedelta(hours=1),
        recurrence=Recurrence(
            pattern=WeeklyPattern(interval=1, weekdays=["Monday"]), start=start.date(), number=3
        ),
    )
    master.save()
    _, state = list(acc.calendar.sync_items()), acc.calendar.item_sync_state
    second = master.occurrence(index=2)
    second.refresh()
    second.subject = "Series (moved to 14:00)"
    second.start = EWSDateTime(2024, 6, 10, 14, 0, tzinfo=BERLIN)
    second.end = EWSDateTime(2024, 6, 10, 15, 0, tzinfo=BERLIN)
    second.save(update_fields=["subject", "start", "end"])
    changes = list(acc.calendar.sync_items(sync_state=state))
    assert [(k, o.id) for k, o in changes] == [("update", master.id)]  # the series changed, not a new item
    updated = changes[0][1]
    assert updated.subject == "Series"
    [modified] = updated.modified_occurrences
    assert modified.start.astimezone(BERLIN).strftime("%m-%d %H:%M") == "06-10 14:00"
    assert modified.original_start.astimezone(BERLIN).strftime("%m-%d %H:%M") == "06-10 09:00"
    exception = acc.calendar.get(id=modified.id)
    assert (exception.type, exception.subject) == ("Exception", "Series (moved to 14:00)")
    view = list(
        acc.calendar.view(
            start=EWSDateTime(2024, 6, 1, tzinfo=BERLIN), end=EWSDateTime(2024, 7, 1, tzinfo=BERLIN)
        )
    )
    assert [(o.type, o.start.astimezone(BERLIN).strftime("%m-%d %H:%M")) for o in view] == [
        ("Occurrence", "06-03 09:00"), ("Exception", "06-10 14:00"), ("Occurrence", "06-17 09:00"),
    ]  # fmt: skip


def test_attachments_create_list_get_delete(account: Any, emu: Any) -> None:
    from exchangelib import FileAttachment

    acc = account()
    contact_msg = Message(folder=acc.drafts, subject="with files", body="see files")
    contact_msg.save()
    key_before = contact_msg.changekey
    contact_msg.attach(FileAttachment(name="a.txt", content=b"alpha", content_type="text/plain"))
    contact_msg.attach(FileAttachment(name="b.bin", content=b"\x00\x01beta"))
    assert contact_msg.changekey != key_before
    fetched = acc.drafts.get(id=contact_msg.id)
    assert fetched.has_attachments is True
    assert sorted((a.name, a.size) for a in fetched.attachments) == [("a.txt", 5), ("b.bin", 6)]
    by_name = {a.name: a for a in fetched.attachments}
    assert by_name["a.txt"].content == b"alpha"  # GetAttachment
    fetched.detach(by_name["a.txt"])
    again = acc.drafts.get(id=contact_msg.id)
    assert [a.name for a in again.attachments] == ["b.bin"]
    assert b"b.bin" in again.mime_content


def test_delivered_attachments_are_listed_and_fetchable(account: Any, emu: Any) -> None:
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@example.net", ALICE, "Invoice"
    mail.set_content("attached")
    mail.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf")
    item_id = emu.deliver(ALICE, mail.as_bytes())
    msg = account().inbox.get(id=item_id)
    [attachment] = msg.attachments
    assert (attachment.name, attachment.content_type, attachment.content) == (
        "invoice.pdf", "application/pdf", b"%PDF-1.4 fake",
    )  # fmt: skip


def test_calendar_view_of_monthly_and_yearly_patterns(account: Any) -> None:
    from exchangelib.recurrence import AbsoluteYearlyPattern, RelativeMonthlyPattern

    acc = account()
    start = EWSDateTime(2024, 1, 26, 10, 0, tzinfo=BERLIN)  # the last Friday of January 2024
    for subject, pattern in (
        ("last Friday, every 2nd month", RelativeMonthlyPattern(interval=2, weekday=5, week_number=5)),
        ("29 February", AbsoluteYearlyPattern(day_of_month=29, month=2)),
    ):
        CalendarItem(
            folder=acc.calendar,
            subject=subject,
            start=start,
            end=start + dt.timedelta(hours=1),
            recurrence=Recurrence(pattern=pattern, start=start.date(), number=3),
        ).save()
    view = acc.calendar.view(
        start=EWSDateTime(2024, 1, 1, tzinfo=BERLIN), end=EWSDateTime(2027, 1, 1, tzinfo=BERLIN)
    )
    got = [(o.subject, o.start.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")) for o in view]
    assert got == [
        ("last Friday, every 2nd month", "2024-01-26 10:00"),
        ("29 February", "2024-02-29 10:00"),
        ("last Friday, every 2nd month", "2024-03-29 10:00"),
        ("last Friday, every 2nd month", "2024-05-31 10:00"),
        ("29 February", "2025-02-28 10:00"),
        ("29 February", "2026-02-28 10:00"),
    ]


def test_create_message_from_mime(account: Any) -> None:
    acc = account()
    msg = Message(folder=acc.inbox, mime_content=RAW)
    msg.save()
    got = acc.inbox.get(id=msg.id)
    assert (got.subject, got.message_id, got.author.email_address) == (
        "Invoice 4711",
        "<4711@example.net>",
        "sender@example.net",
    )
    assert got.mime_content == RAW
