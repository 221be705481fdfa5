"""The CLI: one JSON line when ready, a plain exchangelib + msal client that knows only that line, SIGTERM,
and ``--state`` keeping data, ids and sync states across restarts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import exchangelib
from exchangelib import Contact
from exchangelib.folders import Contacts

from erp_exchange_plugin.testing.emulator.client import (
    MsalCredentials,
    connect,
    msal_app,
    trust_ca_in_exchangelib,
)


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "erp_exchange_plugin.testing.emulator.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, json.loads(line)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert proc.stdout is not None
    assert proc.stdout.read() == ""


def _account(info: dict[str, Any], address: str) -> Any:
    trust_ca_in_exchangelib(info["ca_file"], info["ews_url"])
    app = msal_app(info["authority"], info["client_id"], info["client_secret"], info["ca_file"])
    return connect(address, info["ews_url"], MsalCredentials(app))


def test_cli_serves_a_client_that_knows_only_the_ready_line(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc, info = _start("--mailbox", "erin@example.com:pw", "--latency-ms", "1", "--state", str(state))
    try:
        assert set(info) >= {
            "ews_url",
            "authority",
            "tenant_id",
            "client_id",
            "client_secret",
            "ca_file",
            "admin_url",
            "mailboxes",
        }
        assert info["mailboxes"] == ["erin@example.com"]
        acc = _account(info, "erin@example.com")
        contact = Contact(folder=acc.contacts, display_name="Persisted", erp_id="ERP-P")
        contact.save()
        list(acc.contacts.sync_items())
        sync_state = acc.contacts.item_sync_state
        subfolder = Contacts(parent=acc.contacts, name="ERP")
        subfolder.save()
        Contact(folder=subfolder, display_name="In a subfolder").save()
    finally:
        exchangelib.close_connections()
        _stop(proc)
    assert state.exists()
    assert oct(state.stat().st_mode & 0o777) == "0o600"

    proc, info2 = _start("--state", str(state))
    try:
        assert (info2["tenant_id"], info2["client_id"], info2["client_secret"]) == (
            info["tenant_id"], info["client_id"], info["client_secret"],
        )  # fmt: skip
        acc = _account(info2, "erin@example.com")
        [again] = list(acc.contacts.filter(erp_id="ERP-P"))
        assert (again.id, again.changekey, again.display_name) == (contact.id, contact.changekey, "Persisted")
        again.display_name = "Edited after restart"
        again.save(update_fields=["display_name"])
        changes = list(acc.contacts.sync_items(sync_state=sync_state))
        assert [(k, o.display_name) for k, o in changes] == [("update", "Edited after restart")]
        assert [c.display_name for c in (acc.contacts // "ERP").all()] == ["In a subfolder"]
    finally:
        exchangelib.close_connections()
        _stop(proc)


def test_cli_default_demo_mailboxes_and_bad_arguments() -> None:
    proc, info = _start()
    try:
        assert info["mailboxes"] == ["alice@example.com", "bob@example.com"]
    finally:
        _stop(proc)
    bad = subprocess.run(
        [sys.executable, "-m", "erp_exchange_plugin.testing.emulator.cli", "--mailbox", "no-at-sign"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "not an e-mail address" in bad.stderr


def test_done_when_a_plain_script_knows_only_the_ready_line() -> None:
    """Issue 3's "done when": token; CRUD of contacts, calendar items, tasks; paging through SyncFolderItems;
    find by an extended property; the MIME of a delivered message; every response schema-valid."""
    import datetime as dt
    from decimal import Decimal

    from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone, Task

    from erp_exchange_plugin.testing.emulator.client import trusting_session

    proc, info = _start()
    address = info["mailboxes"][0]
    try:
        acc = _account(info, address)
        utc = EWSTimeZone("UTC")
        start = EWSDateTime(2025, 1, 6, 9, 0, tzinfo=utc)
        for folder, make, field, new_value in (
            (
                acc.contacts,
                lambda i: Contact(display_name=f"C{i}", erp_id=f"E-C{i}"),
                "display_name",
                "C changed",
            ),
            (
                acc.calendar,
                lambda i: CalendarItem(
                    subject=f"A{i}", start=start, end=start + dt.timedelta(hours=1), erp_id=f"E-A{i}"
                ),
                "subject",
                "A changed",
            ),
            (
                acc.tasks,
                lambda i: Task(
                    subject=f"T{i}", status="NotStarted", percent_complete=Decimal(0), erp_id=f"E-T{i}"
                ),
                "subject",
                "T changed",
            ),
        ):
            acc.bulk_create(folder, [make(i) for i in range(60)])
            changes = list(folder.sync_items(max_changes_returned=25))  # three pages
            assert len(changes) == 60
            [found] = list(folder.filter(erp_id=f"E-{new_value[0]}7"))
            setattr(found, field, new_value)
            found.save(update_fields=[field])
            assert getattr(folder.get(id=found.id), field) == new_value
            found.delete()
            assert folder.all().count() == 59
        raw = b"From: a@example.net\r\nTo: " + address.encode() + b"\r\nSubject: MIME\r\n\r\nhello\r\n"
        session = trusting_session(info["ca_file"])
        assert session.post(f"{info['admin_url']}/mailboxes/{address}/messages", data=raw).status_code == 201
        [msg] = list(acc.inbox.all().only("mime_content"))
        assert msg.mime_content == raw
        assert session.get(info["admin_url"]).json()["ews_url"] == info["ews_url"]
    finally:
        exchangelib.close_connections()
        _stop(proc)


def test_cli_rejects_a_broken_state_file(tmp_path: Path) -> None:
    broken = tmp_path / "state.json"
    broken.write_text('{"version": 2}')
    result = subprocess.run(
        [sys.executable, "-m", "erp_exchange_plugin.testing.emulator.cli", "--state", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "state file lacks" in result.stderr
    assert result.stdout == ""


def test_state_is_autosaved_while_running(tmp_path: Path) -> None:
    import time

    from erp_exchange_plugin.testing.emulator.server import Emulator

    state = tmp_path / "state.json"
    with Emulator([("fay@example.com", None)], state_file=state, autosave_seconds=0.05) as first:
        item_id = first.create_item("fay@example.com", "contacts", {"DisplayName": "saved while running"})
        deadline = time.monotonic() + 10
        while not (
            state.exists() and item_id in state.read_text()
        ):  # the autosave thread's work, no event to await
            assert time.monotonic() < deadline, "state was not autosaved"
            time.sleep(0.02)
        (tmp_path / "crash.json").write_text(state.read_text())  # as if the process had been killed now
    restored = Emulator(state_file=tmp_path / "crash.json")
    try:
        assert [v.fields["DisplayName"] for v in restored.items("fay@example.com", "contacts")] == [
            "saved while running"
        ]
    finally:
        restored.stop()
