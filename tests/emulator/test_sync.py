"""SyncFolderItems via exchangelib's sync_items(): paging, netted changes, user edits, Ignore, bad states."""

from __future__ import annotations

from typing import Any

import pytest
from exchangelib import Contact
from exchangelib.errors import ErrorInvalidSyncStateData
from exchangelib.properties import ItemId

from .conftest import ALICE


def _sync(folder: Any, state: str | None, **kwargs: Any) -> tuple[list[tuple[str, Any]], str]:
    changes = list(folder.sync_items(sync_state=state, **kwargs))
    return changes, folder.item_sync_state


def test_initial_sync_pages_with_max_changes_returned(account: Any, emu: Any) -> None:
    acc = account()
    acc.bulk_create(acc.contacts, [Contact(display_name=f"S{i}", erp_id=f"E{i}") for i in range(250)])
    before = emu.request_log.count("SyncFolderItems")
    changes, state = _sync(
        acc.contacts, None, max_changes_returned=100, only_fields=["display_name", "erp_id"]
    )
    assert emu.request_log.count("SyncFolderItems") - before == 3
    assert [kind for kind, _ in changes] == ["create"] * 250
    assert sorted(c.display_name for _, c in changes) == sorted(f"S{i}" for i in range(250))
    assert {c.erp_id for _, c in changes} == {f"E{i}" for i in range(250)}
    again, _state2 = _sync(acc.contacts, state)
    assert again == []


def test_no_change_sync_costs_one_request(account: Any, emu: Any) -> None:
    acc = account()
    _, state = _sync(acc.contacts, None)
    before = emu.request_log.count("SyncFolderItems")
    changes, new_state = _sync(acc.contacts, state, max_changes_returned=512)
    assert changes == []
    assert emu.request_log.count("SyncFolderItems") - before == 1
    assert new_state == state


def test_incremental_changes_are_netted(account: Any, emu: Any) -> None:
    acc = account()
    keep = emu.create_item(ALICE, "contacts", {"DisplayName": "keep"})
    edit = emu.create_item(ALICE, "contacts", {"DisplayName": "edit"})
    gone = emu.create_item(ALICE, "contacts", {"DisplayName": "gone"})
    _, state = _sync(acc.contacts, None)
    emu.update_item(ALICE, edit, {"DisplayName": "edited in Outlook"})
    emu.update_item(ALICE, edit, {"JobTitle": "twice"})
    emu.delete_item(ALICE, gone)
    fresh = emu.create_item(ALICE, "contacts", {"DisplayName": "fresh"})
    emu.update_item(ALICE, fresh, {"DisplayName": "fresh, edited"})
    transient = emu.create_item(ALICE, "contacts", {"DisplayName": "transient"})
    emu.delete_item(ALICE, transient)
    changes, _ = _sync(acc.contacts, state)
    summary = [(k, o.display_name if k in ("create", "update") else o.id) for k, o in changes]
    assert summary == [("update", "edited in Outlook"), ("delete", gone), ("create", "fresh, edited")]
    assert keep not in {o.id for k, o in changes if k != "delete"}


def test_create_then_update_across_a_page_boundary_is_not_lost(account: Any, emu: Any) -> None:
    acc = account()
    _, state = _sync(acc.contacts, None)
    a = emu.create_item(ALICE, "contacts", {"DisplayName": "a"})
    b = emu.create_item(ALICE, "contacts", {"DisplayName": "b"})
    emu.update_item(ALICE, a, {"DisplayName": "a2"})
    changes, _ = _sync(acc.contacts, state, max_changes_returned=1)
    first_seen: dict[str, str] = {}
    for kind, obj in changes:
        first_seen.setdefault(obj.id, kind)
    assert first_seen == {a: "create", b: "create"}
    latest = {obj.id: obj.display_name for _, obj in changes}
    assert latest == {a: "a2", b: "b"}


def test_ignore_skips_items(account: Any, emu: Any) -> None:
    acc = account()
    _, state = _sync(acc.contacts, None)
    mine = emu.create_item(ALICE, "contacts", {"DisplayName": "mine"})
    theirs = emu.create_item(ALICE, "contacts", {"DisplayName": "theirs"})
    changes, _ = _sync(acc.contacts, state, ignore=[ItemId(id=mine)])
    assert [o.id for _, o in changes] == [theirs]


def test_read_flag_change(account: Any, emu: Any) -> None:
    acc = account()
    msg_id = emu.deliver(
        ALICE, b"From: x@example.net\r\nTo: alice@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    )
    _, state = _sync(acc.inbox, None)
    msg = acc.inbox.get(id=msg_id)
    msg.is_read = True
    msg.save(update_fields=["is_read"])
    changes, _ = _sync(acc.inbox, state)
    assert len(changes) == 1
    kind, (item_id, is_read) = changes[0]
    assert (kind, item_id.id, is_read) == ("read_flag_change", msg_id, True)


def test_invalidated_sync_state(account: Any, emu: Any) -> None:
    acc = account()
    _, state = _sync(acc.contacts, None)
    emu.invalidate_sync_state(ALICE, "contacts")
    with pytest.raises(ErrorInvalidSyncStateData):
        _sync(acc.contacts, state)


def test_tampered_or_foreign_sync_state(account: Any) -> None:
    acc = account()
    _, contacts_state = _sync(acc.contacts, None)
    with pytest.raises(ErrorInvalidSyncStateData):
        _sync(acc.calendar, contacts_state)
    with pytest.raises(ErrorInvalidSyncStateData):
        _sync(acc.contacts, "bm90IGEgc3RhdGU=")


def test_user_creates_a_recurring_series_given_as_xml(account: Any, emu: Any) -> None:
    import datetime as dt

    start = dt.datetime(2024, 9, 2, 7, 0, tzinfo=dt.UTC)
    emu.create_item(
        ALICE,
        "calendar",
        {
            "Subject": "Daily",
            "Start": start,
            "End": start + dt.timedelta(minutes=30),
            "Recurrence": "<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>"
            "<t:NumberedRecurrence><t:StartDate>2024-09-02</t:StartDate>"
            "<t:NumberOfOccurrences>5</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>",
        },
    )
    [(kind, master)] = list(account().calendar.sync_items())
    assert (kind, master.type, master.recurrence.boundary.number) == ("create", "RecurringMaster", 5)
