"""The sync engine on tasks, against the emulator (which applies Exchange's task rules) and the stub host."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from erp_exchange_plugin.item_types import tasks
from erp_exchange_plugin.settings import ExchangeSettings
from erp_exchange_plugin.sync.report import RunReport
from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator

from .conftest import ALICE

Sync = Callable[[], RunReport]


@pytest.fixture
def task_service(erp: StubHost) -> Iterator[SyncService]:
    """A sync service for the tasks item type."""
    svc = SyncService(erp, {"tasks": tasks.item_type()})
    yield svc
    svc.close()


@pytest.fixture
def sync(task_service: SyncService, anna: ExchangeSettings) -> Sync:
    """Run one tasks sync for anna (and insist that it reports no per-item error)."""

    def run() -> RunReport:
        (report,) = task_service.sync_user(anna, ["tasks"])
        assert report.errors == [], report.errors
        return report

    return run


def exchange_task(emu: Emulator) -> dict[str, Any]:
    (item,) = emu.items(ALICE, "tasks")
    return {"id": item.item_id, **item.fields}


def erp_tasks(erp: StubHost) -> dict[str, Any]:
    page = erp.records("task", "anna").changes_since(None, 10_000)
    return {c.record.fields["subject"]: c.record for c in page.changes if c.record is not None}


def edit(erp: StubHost, record_id: str, **changes: Any) -> None:
    store = erp.records("task", "anna")
    current = store.get(record_id)
    assert current is not None
    store.put(record_id, {**current.fields, **changes}, current.version)


def quiet(sync: Sync) -> None:
    report = sync()
    assert (report.to_exchange.updated, report.to_erp.updated, report.conflicts, report.requests) == (
        0,
        0,
        [],
        1,
    )


def test_an_erp_task_arrives_field_by_field_and_comes_back_unchanged(
    erp: StubHost, emu: Emulator, sync: Sync
) -> None:
    fields = {
        "subject": "Angebot schicken",
        "body": "Mit Rabatt.\nBis Freitag.",
        "start_date": dt.date(2024, 6, 3),
        "due_date": dt.date(2024, 6, 7),
        "status": "waiting_on_others",
        "percent_complete": 60,
        "importance": "high",
        "reminder_at": dt.datetime(2024, 6, 6, 7, 0, tzinfo=dt.UTC),
        "categories": ["Vertrieb"],
    }
    record = erp.records("task", "anna").put(None, fields, None)
    report = sync()
    assert (report.to_exchange.created, report.to_erp.updated) == (1, 0)
    ex = exchange_task(emu)
    assert ex["Subject"] == "Angebot schicken"
    assert ex["Body"] == "Mit Rabatt.\nBis Freitag."
    assert (ex["StartDate"], ex["DueDate"]) == ("2024-06-03T00:00:00Z", "2024-06-07T00:00:00Z")
    assert (ex["Status"], ex["PercentComplete"], ex["Importance"]) == ("WaitingOnOthers", "60", "High")
    assert (ex["ReminderIsSet"], ex["ReminderDueBy"]) == ("true", "2024-06-06T07:00:00Z")
    assert ex["Categories"] == ["Vertrieb"]
    assert erp.records("task", "anna").get(record.record_id).version == record.version  # type: ignore[union-attr]
    quiet(sync)
    edit(erp, record.record_id, reminder_at=None, categories=[], body=None)
    assert sync().to_exchange.updated == 1
    ex = exchange_task(emu)
    assert ex["ReminderIsSet"] == "false"
    assert "Categories" not in ex
    assert "Body" not in ex
    quiet(sync)


def test_an_outlook_task_arrives_in_the_erp(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    emu.create_item(
        ALICE,
        "tasks",
        {"Subject": "Rückruf", "Importance": "Low", "Status": "InProgress", "PercentComplete": 25,
         "DueDate": dt.datetime(2024, 7, 1, tzinfo=dt.UTC), "Categories": ["Telefon"]},
    )  # fmt: skip
    report = sync()
    assert report.to_erp.created == 1
    assert erp_tasks(erp)["Rückruf"].fields == {
        "subject": "Rückruf",
        "body": None,
        "start_date": None,
        "due_date": dt.date(2024, 7, 1),
        "status": "in_progress",
        "percent_complete": 25,
        "importance": "low",
        "reminder_at": None,
        "categories": ["Telefon"],
    }
    quiet(sync)


def test_status_and_percent_edited_in_outlook(erp: StubHost, emu: Emulator, sync: Sync) -> None:
    record = erp.records("task", "anna").put(
        None, {"subject": "Bericht", "status": "in_progress", "percent_complete": 30}, None
    )
    sync()
    item_id = exchange_task(emu)["id"]
    emu.update_item(ALICE, item_id, {"Status": "Completed"})  # Exchange makes it 100 %
    assert sync().to_erp.updated == 1
    got = erp.records("task", "anna").get(record.record_id)
    assert got is not None
    assert (got.fields["status"], got.fields["percent_complete"]) == ("completed", 100)
    quiet(sync)
    emu.update_item(ALICE, item_id, {"Status": "InProgress", "PercentComplete": 70})
    assert sync().to_erp.updated == 1
    got = erp.records("task", "anna").get(record.record_id)
    assert got is not None
    assert (got.fields["status"], got.fields["percent_complete"]) == ("in_progress", 70)
    emu.update_item(ALICE, item_id, {"PercentComplete": 100})  # Exchange completes it
    assert sync().to_erp.updated == 1
    got = erp.records("task", "anna").get(record.record_id)
    assert got is not None
    assert (got.fields["status"], got.fields["percent_complete"]) == ("completed", 100)
    quiet(sync)


@pytest.mark.parametrize(
    ("changes", "status", "percent"),
    [
        ({"status": "completed", "percent_complete": 40}, "Completed", "100"),
        ({"status": "in_progress", "percent_complete": 100}, "Completed", "100"),
        ({"status": "not_started", "percent_complete": 55}, "NotStarted", "0"),
        ({"status": "deferred", "percent_complete": 55}, "Deferred", "55"),
    ],
)
def test_status_and_percent_edited_in_the_erp_do_not_bounce(
    erp: StubHost, emu: Emulator, sync: Sync, changes: dict[str, Any], status: str, percent: str
) -> None:
    record = erp.records("task", "anna").put(
        None, {"subject": "Plan", "status": "in_progress", "percent_complete": 10}, None
    )
    sync()
    edit(erp, record.record_id, **changes)
    report = sync()
    assert (report.to_exchange.updated, report.to_erp.updated) == (1, 0)
    ex = exchange_task(emu)
    assert (ex["Status"], ex["PercentComplete"]) == (status, percent)
    quiet(sync)
    quiet(sync)


def test_a_due_date_before_the_start_is_moved_once_and_stays(
    erp: StubHost, emu: Emulator, sync: Sync
) -> None:
    erp.records("task", "anna").put(
        None, {"subject": "Datum", "start_date": dt.date(2024, 6, 10), "due_date": dt.date(2024, 6, 1)}, None
    )
    sync()
    assert exchange_task(emu)["DueDate"] == "2024-06-10T00:00:00Z"
    quiet(sync)


def test_both_sides_edited_is_one_logged_conflict_then_quiet(
    erp: StubHost, emu: Emulator, sync: Sync
) -> None:
    record = erp.records("task", "anna").put(
        None, {"subject": "Streit", "percent_complete": 10, "status": "in_progress"}, None
    )
    sync()
    emu.update_item(ALICE, exchange_task(emu)["id"], {"PercentComplete": 90})
    edit(erp, record.record_id, percent_complete=20)
    report = sync()
    assert len(report.conflicts) == 1
    got = erp.records("task", "anna").get(record.record_id)
    assert got is not None
    assert tasks.normalize(got.fields)["percent_complete"] == int(exchange_task(emu)["PercentComplete"])
    quiet(sync)
