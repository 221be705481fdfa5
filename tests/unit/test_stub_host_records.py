"""Record store semantics of the stub host: paging, tombstones, versions, scoping, types."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from erp_exchange_plugin.testing import StubHost
from erp_hookspecs import RecordNotFound, UnknownEntity, VersionConflict


def test_put_creates_and_replaces_with_a_new_version_each_time(host: StubHost) -> None:
    store = host.records("address", "u1")
    created = store.put(None, {"name": "ACME"}, None)
    assert created.fields == {"name": "ACME"}
    assert store.get(created.record_id) == created

    same_content = store.put(created.record_id, {"name": "ACME"}, created.version)
    assert same_content.version != created.version
    assert same_content.record_id == created.record_id

    versions = {created.version, same_content.version}
    latest = same_content
    for i in range(3):
        latest = store.put(latest.record_id, {"name": f"ACME {i}"}, latest.version)
        versions.add(latest.version)
    assert len(versions) == 5
    assert store.get(created.record_id) == latest


def test_modified_at_is_utc_and_comes_from_the_clock(tmp_path: Path) -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    with StubHost(tmp_path, load_entry_points=False, clock=lambda: moment) as h:
        record = h.records("task", "u1").put(None, {"subject": "x"}, None)
    assert record.modified_at == moment
    assert record.modified_at is not None
    assert record.modified_at.utcoffset() == timedelta(0)


def test_changes_since_pages_oldest_first_with_more_flag(host: StubHost) -> None:
    store = host.records("address", "u1")
    ids = [store.put(None, {"n": i}, None).record_id for i in range(5)]

    pages = []
    cursor = None
    while True:
        page = store.changes_since(cursor, limit=2)
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            break
    assert [len(p.changes) for p in pages] == [2, 2, 1]
    assert [p.more for p in pages] == [True, True, False]
    assert [c.record_id for p in pages for c in p.changes] == ids

    empty = store.changes_since(cursor)
    assert empty.changes == ()
    assert empty.cursor == cursor
    assert not empty.more


def test_a_record_appears_at_most_once_per_page_in_its_latest_state(host: StubHost) -> None:
    store = host.records("address", "u1")
    a = store.put(None, {"name": "a1"}, None)
    b = store.put(None, {"name": "b1"}, None)
    a = store.put(a.record_id, {"name": "a2"}, a.version)
    a = store.put(a.record_id, {"name": "a3"}, a.version)

    page = store.changes_since(None)
    assert [c.record_id for c in page.changes] == [b.record_id, a.record_id]
    assert page.changes[1].record == a
    assert page.changes[1].record.fields == {"name": "a3"}


def test_a_record_changed_after_its_page_was_read_comes_again(host: StubHost) -> None:
    store = host.records("appointment", "u1")
    a = store.put(None, {"subject": "a"}, None)
    b = store.put(None, {"subject": "b"}, None)
    first = store.changes_since(None, limit=1)
    assert [c.record_id for c in first.changes] == [a.record_id]

    a2 = store.put(a.record_id, {"subject": "a again"}, a.version)
    rest = store.changes_since(first.cursor)
    assert [c.record for c in rest.changes] == [store.get(b.record_id), a2]


def test_deletes_are_tombstones(host: StubHost) -> None:
    store = host.records("task", "u1")
    keep = store.put(None, {"subject": "keep"}, None)
    gone = store.put(None, {"subject": "gone"}, None)
    cursor = store.changes_since(None).cursor

    store.delete(gone.record_id, gone.version)

    page = store.changes_since(cursor)
    assert len(page.changes) == 1
    tombstone = page.changes[0]
    assert tombstone.record_id == gone.record_id
    assert tombstone.deleted
    assert tombstone.record is None
    assert store.get(gone.record_id) is None
    assert store.get(keep.record_id) == keep
    with pytest.raises(RecordNotFound):
        store.delete(gone.record_id, None)
    with pytest.raises(RecordNotFound):
        store.put(gone.record_id, {"subject": "back"}, gone.version)


def test_created_and_deleted_between_two_reads_is_a_tombstone(host: StubHost) -> None:
    store = host.records("task", "u1")
    brief = store.put(None, {"subject": "brief"}, None)
    store.delete(brief.record_id, None)
    page = store.changes_since(None)
    assert [(c.record_id, c.deleted) for c in page.changes] == [(brief.record_id, True)]


def test_stale_versions_conflict_and_change_nothing(host: StubHost) -> None:
    store = host.records("address", "u1")
    v1 = store.put(None, {"name": "v1"}, None)
    v2 = store.put(v1.record_id, {"name": "v2"}, v1.version)

    with pytest.raises(VersionConflict) as put_conflict:
        store.put(v1.record_id, {"name": "lost"}, v1.version)
    assert (put_conflict.value.record_id, put_conflict.value.expected, put_conflict.value.actual) == (
        v1.record_id,
        v1.version,
        v2.version,
    )
    with pytest.raises(VersionConflict):
        store.delete(v1.record_id, v1.version)
    # Replacing without a version is not a blind overwrite in the stub host.
    with pytest.raises(VersionConflict) as blind:
        store.put(v1.record_id, {"name": "blind"}, None)
    assert blind.value.expected is None

    assert store.get(v1.record_id) == v2
    store.delete(v1.record_id, None)
    assert store.get(v1.record_id) is None


def test_unknown_records_and_bad_arguments(host: StubHost) -> None:
    store = host.records("address", "u1")
    with pytest.raises(RecordNotFound) as not_found:
        store.put("no-such-id", {}, "v")
    assert not_found.value.record_id == "no-such-id"
    with pytest.raises(RecordNotFound):
        store.delete("no-such-id", None)
    assert store.get("no-such-id") is None
    with pytest.raises(ValueError, match="new record has no version"):
        store.put(None, {}, "v1")
    with pytest.raises(ValueError, match="cursor"):
        store.changes_since("not-a-cursor")
    store.put(None, {}, None)
    cursor = store.changes_since(None).cursor
    assert store.changes_since(cursor).changes == ()
    with pytest.raises(ValueError, match="not a cursor of the 'address' records of user 'u2'"):
        host.records("address", "u2").changes_since(cursor)
    with pytest.raises(ValueError, match="cursor"):
        host.records("task", "u1").changes_since(cursor)
    with pytest.raises(ValueError, match="cursor"):
        store.changes_since(cursor + "x")
    with pytest.raises(ValueError, match="limit"):
        store.changes_since(None, limit=0)


def test_records_are_scoped_to_their_owner(host: StubHost) -> None:
    mine = host.records("address", "u1")
    theirs = host.records("address", "u2")
    record = mine.put(None, {"name": "private"}, None)
    other = theirs.put(None, {"name": "other"}, None)

    assert theirs.get(record.record_id) is None
    with pytest.raises(RecordNotFound):
        theirs.put(record.record_id, {"name": "stolen"}, record.version)
    with pytest.raises(RecordNotFound):
        theirs.delete(record.record_id, None)
    assert [c.record_id for c in mine.changes_since(None).changes] == [record.record_id]
    assert [c.record_id for c in theirs.changes_since(None).changes] == [other.record_id]
    assert mine.get(record.record_id) == record


def test_entities_are_separate_and_unknown_ones_raise(tmp_path: Path) -> None:
    with StubHost(tmp_path, load_entry_points=False, extra_entities=["note"]) as h:
        assert h.entities == ("address", "appointment", "task", "note")
        address = h.records("address", "u1").put(None, {"k": 1}, None)
        assert h.records("task", "u1").get(address.record_id) is None
        assert h.records("note", "u1").changes_since(None).changes == ()
        with pytest.raises(UnknownEntity) as unknown:
            h.records("invoice", "u1")
        assert unknown.value.entity == "invoice"
        with pytest.raises(ValueError, match="entity names"):
            StubHost(tmp_path, load_entry_points=False, extra_entities=["Robert'); DROP TABLE users;--"])


def test_typed_fields_round_trip(host: StubHost) -> None:
    store = host.records("appointment", "u1")
    fields = {
        "start": datetime(2026, 12, 24, 18, 0, tzinfo=timezone(timedelta(hours=1))),
        "end_utc": datetime(2026, 12, 24, 19, 0, tzinfo=UTC),
        "floating": datetime(2026, 12, 24, 18, 0),
        "all_day": date(2026, 12, 25),
        "cost": Decimal("12.30"),
        "blob": b"\x00\xff",
        "attendees": [{"email": "a@example.com", "optional": False}],
        "tags": ("x", "y"),
        "nothing": None,
        "ratio": 0.5,
    }
    stored = store.put(None, fields, None)
    assert stored.fields == {**fields, "tags": ["x", "y"]}
    start = stored.fields["start"]
    assert isinstance(start, datetime)
    assert start.utcoffset() == timedelta(hours=1)
    assert isinstance(stored.fields["cost"], Decimal)
    assert store.get(stored.record_id) == stored


def test_unstorable_fields_are_a_type_error_naming_the_field(host: StubHost) -> None:
    store = host.records("address", "u1")
    with pytest.raises(TypeError, match=r"phones\[1\]\.number"):
        store.put(None, {"phones": [{"number": "1"}, {"number": object()}]}, None)
    with pytest.raises(TypeError, match="reserved"):
        store.put(None, {"$stubhost": "x"}, None)
    assert store.changes_since(None).changes == ()
