"""Nothing lost, nothing twice: crashes between delivery and checkpoint, UIDVALIDITY changes,
server-side actions only after the host accepted a message."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from erp_exchange_plugin.mail import ImapCheckpoint, MailCheckpoints
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.dovecot_fixtures import DovecotUser
from tests.mail.conftest import Fetcher, imap_flags, mailbox_for, message, pop3_count, wrap


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_an_answer_lost_after_storing_loses_nothing_and_stores_once(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher, protocol: str
) -> None:
    for n in range(5):
        dovecot_user.deliver(message(n))
    mailbox = mailbox_for(dovecot_user, protocol)
    crashing = wrap(host, fail_after={3})  # the host stores message 3, then the run dies

    first = fetch(mailbox, host=crashing)
    assert first.delivered == 2
    assert len(first.errors) == 1
    assert "crashed after storing message 3" in first.errors[0]
    assert len(host.received_mail()) == 3

    second = fetch(mailbox)
    assert (second.delivered, second.duplicates, second.errors) == (2, 1, ())
    stored = host.received_mail()
    assert sorted(m.raw for m in stored) == sorted(message(n) for n in range(5))
    assert len({m.key for m in stored}) == 5


CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from erp_exchange_plugin.mail import MailCheckpoints, fetch_mailbox
    from erp_exchange_plugin.manager import ExtensionManager
    from erp_exchange_plugin.testing import StubHost
    from erp_hookspecs import Mailbox

    args = json.loads(sys.argv[1])
    host = StubHost(args["directory"], load_entry_points=False)
    real = host.mail_sink

    class KillingSink:
        calls = 0
        def deliver(self, message):
            answer = real.deliver(message)
            KillingSink.calls += 1
            if KillingSink.calls == args["kill_after"]:
                os.kill(os.getpid(), signal.SIGKILL)  # stored, and no checkpoint after it
            return answer

    class Host:
        mail_sink = KillingSink()
        def __getattr__(self, name):
            return getattr(host, name)

    providers = ExtensionManager(entry_points=False, builtins=["erp_exchange_plugin.mail.builtin"]).mail_providers
    checkpoints = MailCheckpoints.open(host.state_location("exchange").database_url)
    fetch_mailbox(Host(), Mailbox(**args["mailbox"]), providers, checkpoints=checkpoints)
    sys.exit(3)  # not reached
    """
)


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_a_killed_process_loses_nothing_and_a_key_honouring_host_stores_once(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher, protocol: str
) -> None:
    total, kill_after = 300, 150
    for n in range(total):
        dovecot_user.deliver(message(n))
    mailbox = mailbox_for(dovecot_user, protocol)
    args = {
        "directory": str(host.directory),
        "kill_after": kill_after,
        "mailbox": {
            "mailbox_id": mailbox.mailbox_id,
            "user_id": mailbox.user_id,
            "protocol": mailbox.protocol,
            "settings": dict(mailbox.settings),
        },
    }
    child = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, timeout=120)
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    assert len(host.received_mail()) == kill_after

    report = fetch(mailbox)
    assert report.errors == ()
    assert report.delivered == total - kill_after
    stored = host.received_mail()
    assert len(stored) == total
    assert len({m.key for m in stored}) == total
    assert sorted(m.raw for m in stored) == sorted(message(n) for n in range(total))
    assert fetch(mailbox).delivered == 0


def test_a_uidvalidity_change_does_not_redeliver_the_mailbox(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher, checkpoints: MailCheckpoints
) -> None:
    old = [message(n) for n in range(5)] + [message(5, message_id=None)]
    for raw in old:
        dovecot_user.deliver(raw)
    mailbox = mailbox_for(dovecot_user)
    assert fetch(mailbox).delivered == 6
    before = checkpoints.imap(mailbox.mailbox_id, "INBOX")
    assert before is not None
    assert before.last_uid == 6

    new_validity = dovecot_user.change_uidvalidity()
    assert new_validity != before.uidvalidity
    fresh = message(6)
    reused_id = message(7, message_id="<msg-1@example.com>", body=b"a different message reusing an id\r\n")
    dovecot_user.deliver(fresh)
    dovecot_user.deliver(reused_id)
    counting = wrap(host)

    report = fetch(mailbox, host=counting)
    assert (report.delivered, report.duplicates, report.errors) == (2, 6, ())
    assert counting.mail_sink.calls == 2  # the six old messages never reached the host again
    # Reconciled by Message-ID and size without fetching bodies: only the two new messages and
    # the old one without a Message-ID (recognised by its content digest) were downloaded.
    assert imap_body_counts(dovecot_user, 2) == [6, 3]
    assert [m.raw for m in host.received_mail()] == [*old, fresh, reused_id]
    assert checkpoints.imap(mailbox.mailbox_id, "INBOX") == ImapCheckpoint(new_validity, 8)
    assert fetch(mailbox).delivered == 0


def imap_body_counts(user: DovecotUser, sessions: int) -> list[int]:
    """``body_count`` of each of the user's first ``sessions`` IMAP sessions, from Dovecot's log.

    Waits for the log lines: Dovecot writes them after the client has gone.
    """
    deadline = time.monotonic() + 10
    while True:
        lines = [
            line
            for line in user.server.log_text().splitlines()
            if f"imap({user.name})" in line and "Logged out" in line
        ]
        if len(lines) >= sessions or time.monotonic() > deadline:
            return [int(line.split("body_count=")[1].split()[0]) for line in lines[:sessions]]
        time.sleep(0.05)


def test_without_actions_the_server_is_left_alone(dovecot_user: DovecotUser, fetch: Fetcher) -> None:
    for n in range(2):
        dovecot_user.deliver(message(n))
    assert fetch(mailbox_for(dovecot_user)).delivered == 2
    assert all(b"\\Seen" not in flags for flags in imap_flags(dovecot_user).values())


def test_mark_read_only_after_acceptance(dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher) -> None:
    for n in range(3):
        dovecot_user.deliver(message(n))
    mailbox = mailbox_for(dovecot_user, actions={"mark_read": True})
    refusing = wrap(host, fail_before={2})  # the host refuses message 1 (the second)

    report = fetch(mailbox, host=refusing)
    assert report.delivered == 1
    assert "host refused message 2" in report.errors[0]
    flags = imap_flags(dovecot_user)
    assert b"\\Seen" in flags[b"message 0"]
    assert b"\\Seen" not in flags[b"message 1"]
    assert b"\\Seen" not in flags[b"message 2"]

    assert fetch(mailbox).delivered == 2
    assert all(b"\\Seen" in f for f in imap_flags(dovecot_user).values())


def test_move_only_after_acceptance(dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher) -> None:
    dovecot_user.server.maildir(dovecot_user.name, "Archive")
    for n in range(3):
        dovecot_user.deliver(message(n))
    mailbox = mailbox_for(dovecot_user, actions={"move_to": "Archive"})

    report = fetch(mailbox, host=wrap(host, fail_before={2}))
    assert report.delivered == 1
    assert set(imap_flags(dovecot_user)) == {b"message 1", b"message 2"}
    assert set(imap_flags(dovecot_user, "Archive")) == {b"message 0"}


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_delete_only_after_acceptance(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher, protocol: str
) -> None:
    for n in range(3):
        dovecot_user.deliver(message(n))
    mailbox = mailbox_for(dovecot_user, protocol, actions={"delete": True})

    report = fetch(mailbox, host=wrap(host, fail_before={2}))
    assert report.delivered == 1
    assert pop3_count(dovecot_user) == 2
    assert set(imap_flags(dovecot_user)) == {b"message 1", b"message 2"}

    assert fetch(mailbox).delivered == 2
    assert pop3_count(dovecot_user) == 0
    assert len(host.received_mail()) == 3
