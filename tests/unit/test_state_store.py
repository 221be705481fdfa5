"""The state store: migrations, installation id, pairs, cursors, intent journal, transactions."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from erp_exchange_plugin.state import Cursor, Database, Pair, StateStore
from erp_exchange_plugin.state.database import UnsupportedDatabase
from erp_exchange_plugin.state.migrations import MIGRATIONS, Migration, SchemaTooNew, current_version, migrate


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'state.sqlite3'}"


def _pair(erp_id: str, ex_id: str | None = None, fp: str = "f1") -> Pair:
    return Pair("anna", "contacts", erp_id, "v1", fp, ex_id, "ck1" if ex_id else None, fp)


def test_migrations_apply_once_and_record_their_versions(url: str) -> None:
    db = Database(url)
    assert migrate(db) == [m.version for m in MIGRATIONS]
    assert migrate(db) == []
    assert current_version(db) == MIGRATIONS[-1].version


def test_a_new_migration_is_applied_on_top(url: str) -> None:
    db = Database(url)
    migrate(db)
    extra = Migration(
        MIGRATIONS[-1].version + 1, "test column", ("ALTER TABLE sync_pairs ADD COLUMN note TEXT",)
    )
    assert migrate(db, (*MIGRATIONS, extra)) == [extra.version]
    assert "note" in {r["name"] for r in db.query("PRAGMA table_info(sync_pairs)")}


def test_a_failing_migration_leaves_nothing_half_done(url: str) -> None:
    db = Database(url)
    migrate(db)
    bad = Migration(99, "broken", ("CREATE TABLE half (x TEXT)", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        migrate(db, (*MIGRATIONS, bad))
    assert current_version(db) == MIGRATIONS[-1].version
    assert not db.query("SELECT name FROM sqlite_master WHERE name = 'half'")


def test_a_database_from_a_newer_plugin_is_refused(url: str) -> None:
    db = Database(url)
    migrate(db, (*MIGRATIONS, Migration(500, "future", ("CREATE TABLE future (x TEXT)",))))
    with pytest.raises(SchemaTooNew, match="schema version 500"):
        StateStore(url)


def test_only_sqlite_urls_are_accepted(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedDatabase, match="postgresql"):
        StateStore("postgresql://db/erp")
    with pytest.raises(UnsupportedDatabase, match="file path"):
        StateStore("sqlite:///")


def test_installation_id_is_stable_across_reopen(url: str) -> None:
    first = StateStore(url)
    again = StateStore(url)
    assert first.installation_id == again.installation_id
    assert len(first.installation_id) == 36


def test_pairs_are_upserted_and_ex_ids_are_unique(url: str) -> None:
    store = StateStore(url)
    store.put_pair(_pair("E1", "X1"))
    store.put_pair(_pair("E1", "X1", fp="f2"))
    store.put_pair(_pair("E2"))
    store.put_pair(_pair("E3"))  # two pairs without an Exchange id yet are fine
    pairs = store.pairs("anna", "contacts")
    assert set(pairs) == {"E1", "E2", "E3"}
    assert pairs["E1"].erp_fp == "f2"
    with pytest.raises(sqlite3.IntegrityError):
        store.put_pair(_pair("E4", "X1"))
    assert store.pairs("ben", "contacts") == {}
    store.delete_pair("anna", "contacts", "E1")
    assert store.pair_count("anna", "contacts") == 2


def test_cursors_round_trip(url: str) -> None:
    store = StateStore(url)
    assert store.cursor("anna", "contacts") == Cursor()
    store.put_cursor("anna", "contacts", Cursor("address:anna:7", "S3"))
    assert StateStore(url).cursor("anna", "contacts") == Cursor("address:anna:7", "S3")


def test_a_transaction_commits_all_or_nothing(url: str) -> None:
    store = StateStore(url)

    def crash_mid_batch() -> None:
        with store.transaction():
            store.put_pair(_pair("E1", "X1"))
            store.put_cursor("anna", "contacts", Cursor("c1", "s1"))
            raise RuntimeError("crash mid-batch")

    with pytest.raises(RuntimeError):
        crash_mid_batch()
    assert store.pairs("anna", "contacts") == {}
    assert store.cursor("anna", "contacts") == Cursor()
    with store.transaction():
        store.put_pair(_pair("E1", "X1"))
        store.put_cursor("anna", "contacts", Cursor("c1", "s1"))
    reopened = StateStore(url)
    assert set(reopened.pairs("anna", "contacts")) == {"E1"}
    assert reopened.cursor("anna", "contacts") == Cursor("c1", "s1")


def test_intents_survive_until_forgotten(url: str) -> None:
    store = StateStore(url)
    a = store.journal("anna", "contacts", "create_exchange", erp_id="E1", fingerprint="f")
    b = store.journal("anna", "contacts", "create_erp", ex_id="X9")
    assert [i.intent_id for i in StateStore(url).intents("anna", "contacts")] == [a.intent_id, b.intent_id]
    store.forget_intent(a.intent_id)
    assert [i.op for i in store.intents("anna", "contacts")] == ["create_erp"]


def test_threads_writing_at_once_lose_nothing(url: str) -> None:
    store = StateStore(url)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                with store.transaction():
                    store.put_pair(Pair(f"user{n}", "contacts", f"E{i}", "v", "f", f"X{n}-{i}", "ck", "f"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(store.pair_count(f"user{n}", "contacts") for n in range(4)) == 200


def test_pair_content_is_not_loaded_with_the_pairs_and_survives_their_writes(url: str) -> None:
    from dataclasses import replace

    from erp_exchange_plugin.state.store import UNLOADED

    store = StateStore(url)
    store.put_pair(replace(_pair("E1", "X1"), content='{"name":"A"}'))
    loaded = store.pairs("anna", "contacts")["E1"]
    assert loaded.content == UNLOADED
    store.put_pair(replace(loaded, ex_change_key="ck2"))  # written back without its content
    assert store.content("anna", "contacts", "E1") == '{"name":"A"}'
    store.put_pair(replace(loaded, content=None))  # explicitly cleared
    assert store.content("anna", "contacts", "E1") is None
