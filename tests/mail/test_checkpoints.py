"""Migration 2 and the checkpoint access layer."""

from __future__ import annotations

from pathlib import Path

from erp_exchange_plugin.mail import ImapCheckpoint, MailCheckpoints
from erp_exchange_plugin.state import StateStore
from erp_exchange_plugin.state.migrations import MIGRATIONS, current_version


def test_migration_2_adds_the_mail_tables(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    assert [m.version for m in MIGRATIONS][:2] == [1, 2]
    assert current_version(store.db) >= 2
    tables = {r["name"] for r in store.db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"mail_imap_folders", "mail_delivered", "mail_pop3_uidls", "mail_ews_sync"} <= tables


def test_checkpoints_round_trip_and_stay_per_mailbox(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    cp = MailCheckpoints(StateStore(url).db)
    assert cp.imap("m1", "INBOX") is None
    with cp.transaction():
        cp.put_imap("m1", "INBOX", ImapCheckpoint(7, 42))
        cp.put_delivered("m1", "d1", "<a@b>", 100)
        cp.put_delivered("m1", "d1", "<a@b>", 100)  # twice is fine
        cp.put_delivered("m1", "d2", None, 5)
        cp.add_pop3_uidl("m1", "u1")
        cp.add_pop3_uidl("m1", "u2")
        cp.put_ews_sync_state("m1", "state-1")
    cp.put_imap("m1", "INBOX", ImapCheckpoint(7, 43))
    cp.forget_pop3_uidls("m1", ["u1"])

    again = MailCheckpoints(StateStore(url).db)
    assert again.imap("m1", "INBOX") == ImapCheckpoint(7, 43)
    assert again.imap("m2", "INBOX") is None
    assert again.was_delivered("m1", "d1")
    assert not again.was_delivered("m2", "d1")
    assert again.delivered_signatures("m1", ["<a@b>", "<x@y>"]) == {("<a@b>", 100)}
    assert again.delivered_count("m1") == 2
    assert again.pop3_uidls("m1") == {"u2"}
    assert again.pop3_uidls("m2") == set()
    assert again.ews_sync_state("m1") == "state-1"
    assert again.ews_sync_state("m1", "sent") is None


def test_open_shares_one_instance_per_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    assert MailCheckpoints.open(url) is MailCheckpoints.open(url)
