"""Limits (per message, per run) and malformed MIME: reported, alerted, delivered raw; never a crash."""

from __future__ import annotations

import pytest

from erp_exchange_plugin.mail.message import inspect
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.dovecot_fixtures import DovecotUser
from tests.mail.conftest import Fetcher, mailbox_for, message


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_an_oversized_message_is_skipped_once_with_a_report_and_an_alert(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher, protocol: str
) -> None:
    dovecot_user.deliver(message(0))
    dovecot_user.deliver(message(1, size=8000))
    dovecot_user.deliver(message(2))
    mailbox = mailbox_for(dovecot_user, protocol, limits={"max_message_bytes": 4096})

    report = fetch(mailbox)
    assert report.delivered == 2
    assert report.errors == ()
    assert len(report.skipped) == 1
    assert "over the limit of 4096 bytes per message" in report.skipped[0]
    assert ("UID 2" if protocol == "imap" else "message 2") in report.skipped[0]
    assert [m.raw for m in host.received_mail()] == [message(0), message(2)]
    alerts = host.raised_alerts(code="mail.message_too_large")
    assert len(alerts) == 1
    assert alerts[0].user_id == "u1"
    assert "1 message(s)" in alerts[0].message

    again = fetch(mailbox)
    assert (again.delivered, again.skipped) == (0, ())
    assert len(host.raised_alerts(code="mail.message_too_large")) == 1


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_the_message_limit_per_run_leaves_the_rest_for_the_next_runs(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher, protocol: str
) -> None:
    for n in range(5):
        dovecot_user.deliver(message(n))
    mailbox = mailbox_for(dovecot_user, protocol, limits={"max_messages_per_run": 2})

    runs = [fetch(mailbox) for _ in range(4)]
    assert [r.delivered for r in runs] == [2, 2, 1, 0]
    assert "the limit of 2 messages per run was reached" in runs[0].skipped[0]
    assert runs[2].skipped == ()
    assert [m.raw for m in host.received_mail()] == [message(n) for n in range(5)]
    assert len(host.raised_alerts(code="mail.run_limit")) == 2


def test_the_byte_limit_per_run_always_takes_the_first_message(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher
) -> None:
    dovecot_user.deliver(message(0, size=6000))
    dovecot_user.deliver(message(1, size=3000))
    dovecot_user.deliver(message(2, size=3000))
    mailbox = mailbox_for(dovecot_user, limits={"max_bytes_per_run": 5000})
    assert [fetch(mailbox).delivered for _ in range(3)] == [1, 1, 1]
    assert len(host.received_mail()) == 3


MALFORMED = {
    "multipart without a boundary": (
        b"From: a@example.com\r\nContent-Type: multipart/mixed\r\nMIME-Version: 1.0\r\n\r\n--x\r\nhello\r\n",
        "without a boundary parameter",
    ),
    "truncated multipart": (
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n",
        "closing boundary is missing",
    ),
    "boundary never used": (
        b'From: a@example.com\r\nContent-Type: multipart/alternative; boundary="zz"\r\n\r\njust text\r\n',
        "boundary never appears",
    ),
    "garbage header line": (
        b"From: a@example.com\r\nthis line is no header\r\nSubject: x\r\n\r\nbody\r\n",
        "header defect",
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_malformed_mime_is_delivered_raw_with_a_warning(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher, name: str, protocol: str
) -> None:
    raw, expected = MALFORMED[name]
    dovecot_user.deliver(raw)
    dovecot_user.deliver(message(1))
    report = fetch(mailbox_for(dovecot_user, protocol))
    assert (report.delivered, report.errors) == (2, ())
    bad, good = host.received_mail()
    assert bad.raw == raw
    assert any(expected in w for w in bad.warnings), bad.warnings
    assert good.warnings == ()


def test_a_sound_multipart_message_has_no_warning() -> None:
    raw = (
        b'From: a@example.com\r\nMessage-ID: <x@y>\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n"
    )
    assert inspect(raw) == ("<x@y>", ())
