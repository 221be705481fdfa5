"""The tasks item type's mapping, both ways, without a server (the engine tests use the emulator)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from exchangelib import Task
from hypothesis import given, settings
from hypothesis import strategies as st

from erp_exchange_plugin.item_types import tasks
from erp_exchange_plugin.plugin_types import RecordInvalid

FULL: dict[str, Any] = {
    "subject": "Angebot an Müller schicken",
    "body": "Mit Rabatt.\r\nBis Freitag.",
    "start_date": dt.date(2024, 6, 3),
    "due_date": "2024-06-07",
    "status": "in_progress",
    "percent_complete": 40,
    "importance": "high",
    "reminder_at": "2024-06-06T09:00:00+02:00",
    "categories": ["Vertrieb", "A-Kunde"],
}


def _round_trip(fields: dict[str, Any]) -> dict[str, Any]:
    item = Task(**tasks.to_exchange(tasks.normalize(fields)))
    item.clean()  # exchangelib's own consistency rules, as on every save
    return tasks.to_erp(item)


def test_a_full_record_survives_the_round_trip() -> None:
    once = tasks.normalize(FULL)
    assert _round_trip(FULL) == once
    assert once["reminder_at"] == dt.datetime(2024, 6, 6, 7, 0, tzinfo=dt.UTC)
    assert once["body"] == "Mit Rabatt.\nBis Freitag."
    assert tasks.normalize(once) == once


@pytest.mark.parametrize(
    ("given_fields", "status", "percent"),
    [
        ({"status": "completed", "percent_complete": 30}, "completed", 100),
        ({"status": "in_progress", "percent_complete": 100}, "completed", 100),
        ({"status": "not_started", "percent_complete": 50}, "not_started", 0),
        ({"status": "waiting_on_others", "percent_complete": 75}, "waiting_on_others", 75),
        ({"percent_complete": Decimal("100.0")}, "completed", 100),
        ({}, "not_started", 0),
    ],
)
def test_exchange_consistency_rules_are_applied(
    given_fields: dict[str, Any], status: str, percent: int
) -> None:
    once = tasks.normalize(given_fields)
    assert (once["status"], once["percent_complete"]) == (status, percent)
    assert _round_trip(given_fields) == once


def test_a_due_date_before_the_start_moves_to_the_start() -> None:
    once = tasks.normalize({"start_date": "2024-06-10", "due_date": "2024-06-01"})
    assert once["due_date"] == dt.date(2024, 6, 10)
    assert _round_trip({"start_date": "2024-06-10", "due_date": "2024-06-01"}) == once


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"status": "done"}, "status"),
        ({"percent_complete": 101}, "percent_complete"),
        ({"percent_complete": 12.5}, "percent_complete"),
        ({"importance": "urgent"}, "importance"),
        ({"due_date": "tomorrow"}, "due_date"),
        ({"owner": "x"}, "owner"),
    ],
)
def test_bad_records_name_the_field(fields: dict[str, Any], bad: str) -> None:
    with pytest.raises(RecordInvalid) as info:
        tasks.normalize({**FULL, **fields})
    assert info.value.field == bad


@settings(max_examples=200, deadline=None)
@given(
    status=st.sampled_from(list(tasks.STATUS)),
    percent=st.integers(min_value=0, max_value=100),
    start=st.none() | st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2037, 1, 1)),
    due=st.none() | st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2037, 1, 1)),
    importance=st.sampled_from(list(tasks.IMPORTANCE)),
)
def test_any_task_is_a_fixed_point_of_exchange_rules(
    status: str, percent: int, start: dt.date | None, due: dt.date | None, importance: str
) -> None:
    fields = {
        "status": status,
        "percent_complete": percent,
        "start_date": start,
        "due_date": due,
        "importance": importance,
    }
    once = tasks.normalize(fields)
    assert tasks.normalize(once) == once
    assert _round_trip(fields) == once  # exchangelib's clean() changes nothing normalize() left
