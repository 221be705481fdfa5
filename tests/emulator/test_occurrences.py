"""A recurring master's exceptions (moved and deleted occurrences), set "as Outlook" and read over EWS."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
from exchangelib.recurrence import Recurrence, WeeklyPattern

from .conftest import ALICE

BERLIN = EWSTimeZone("Europe/Berlin")
UTC = dt.UTC


def test_moved_and_deleted_occurrences_are_read_and_synced(account: Any, emu: Any) -> None:
    acc = account()
    start = EWSDateTime(2024, 6, 3, 9, 0, tzinfo=BERLIN)
    master = CalendarItem(
        folder=acc.calendar,
        subject="Weekly",
        start=start,
        end=start + dt.timedelta(hours=1),
        recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=[1]), start=start.date(), number=5),
    )
    master.save()
    list(acc.calendar.sync_items(only_fields=["subject"]))
    state = acc.calendar.item_sync_state
    second = dt.datetime(2024, 6, 10, 7, 0, tzinfo=UTC)
    third = dt.datetime(2024, 6, 17, 7, 0, tzinfo=UTC)
    emu.update_item(
        ALICE,
        master.id,
        {
            "ModifiedOccurrences": [(second, second + dt.timedelta(hours=3), second + dt.timedelta(hours=4))],
            "DeletedOccurrences": [third],
        },
    )
    got = acc.calendar.get(id=master.id)
    assert got.changekey != master.changekey
    (moved,) = got.modified_occurrences
    assert (moved.original_start, moved.start, moved.end) == (
        second,
        second + dt.timedelta(hours=3),
        second + dt.timedelta(hours=4),
    )
    assert moved.id
    (deleted,) = got.deleted_occurrences
    assert deleted.start == third
    changes = list(
        acc.calendar.sync_items(sync_state=state, only_fields=["modified_occurrences", "deleted_occurrences"])
    )
    assert [(kind, item.id) for kind, item in changes] == [("update", master.id)]
    assert changes[0][1].deleted_occurrences[0].start == third
    assert emu.validation_errors == []
