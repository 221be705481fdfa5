"""New mail is delivered once, over every protocol and TLS mode, through fetch_mailbox and the hook."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from erp_exchange_plugin.mail import MailCheckpoints, fetch_mailbox
from erp_exchange_plugin.mail.message import digest, message_key
from erp_exchange_plugin.plugin_types import MailProvider
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.dovecot_fixtures import DovecotUser
from erp_hookspecs import Mailbox, MailFetchReport, hookimpl
from tests.mail.conftest import Fetcher, mailbox_for, message

MODES = [("imap", "tls"), ("imap", "starttls"), ("pop3", "tls"), ("pop3", "starttls")]


@pytest.mark.parametrize(("protocol", "security"), MODES)
def test_new_mail_is_delivered_once(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher, protocol: str, security: str
) -> None:
    sent = [message(n) for n in range(3)]
    for raw in sent:
        dovecot_user.deliver(raw)
    mailbox = mailbox_for(dovecot_user, protocol, security)

    first = fetch(mailbox)
    assert (first.delivered, first.duplicates, first.errors, first.skipped) == (3, 0, (), ())
    stored = host.received_mail(mailbox_id=mailbox.mailbox_id)
    assert [m.raw for m in stored] == sent  # byte for byte, in server order
    assert [m.key for m in stored] == [message_key(mailbox.mailbox_id, digest(raw)) for raw in sent]
    assert {m.user_id for m in stored} == {"u1"}
    if protocol == "imap":
        assert all(m.received_at is not None for m in stored)

    again = fetch(mailbox)
    assert (again.delivered, again.duplicates, again.errors) == (0, 0, ())

    dovecot_user.deliver(message(3))
    third = fetch(mailbox)
    assert (third.delivered, third.duplicates) == (1, 0)
    assert len(host.received_mail(mailbox_id=mailbox.mailbox_id)) == 4


def test_several_folders_are_fetched_in_order(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher
) -> None:
    dovecot_user.deliver(message(1))
    dovecot_user.deliver(message(2), folder="Orders")
    mailbox = mailbox_for(dovecot_user, folders=["INBOX", "Orders"])
    report = fetch(mailbox)
    assert report.delivered == 2
    assert [m.raw for m in host.received_mail()] == [message(1), message(2)]


def test_a_folder_with_a_non_ascii_name(dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher) -> None:
    dovecot_user.deliver(message(1), folder="Entw&APw-rfe")  # Maildir++ keeps IMAP's modified UTF-7 on disk
    report = fetch(mailbox_for(dovecot_user, folder="Entwürfe"))
    assert (report.delivered, report.errors) == (1, ())
    assert [m.raw for m in host.received_mail()] == [message(1)]


def test_a_missing_folder_is_a_clear_error(dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher) -> None:
    report = fetch(mailbox_for(dovecot_user, folder="Nope"))
    assert report.delivered == 0
    assert len(report.errors) == 1
    assert "'Nope'" in report.errors[0]
    assert [a.code for a in host.raised_alerts()] == ["mail.folder_not_found"]


def test_a_protocol_we_do_not_provide_is_left_to_other_plugins(
    host: StubHost, providers: Mapping[str, MailProvider], checkpoints: MailCheckpoints
) -> None:
    mailbox = Mailbox("m1", "u1", "carrier-pigeon", {})
    assert fetch_mailbox(host, mailbox, providers, checkpoints=checkpoints) is None


def test_hook_on_mail_fetch_through_the_stub_host(
    dovecot_user: DovecotUser, tmp_path: object, providers: Mapping[str, MailProvider]
) -> None:
    """The way main wires on_mail_fetch: firstresult, None for other protocols, default checkpoints."""

    class MailPlugin:
        @hookimpl
        def on_mail_fetch(self, host: StubHost, mailbox: Mailbox) -> MailFetchReport | None:
            return fetch_mailbox(host, mailbox, providers)

    class OtherPlugin:
        @hookimpl
        def on_mail_fetch(self, host: StubHost, mailbox: Mailbox) -> MailFetchReport | None:
            return MailFetchReport(mailbox.mailbox_id) if mailbox.protocol == "jmap" else None

    from pathlib import Path

    assert isinstance(tmp_path, Path)
    with StubHost(
        tmp_path / "hooked", plugins=[MailPlugin(), OtherPlugin()], load_entry_points=False
    ) as host:
        host.add_user("u1", "Ursula")
        dovecot_user.deliver(message(1))
        report = host.mail_fetch(mailbox_for(dovecot_user, "pop3"))
        assert report is not None
        assert report.delivered == 1
        jmap = host.mail_fetch(Mailbox("j", "u1", "jmap", {}))
        assert jmap == MailFetchReport("j")
        assert host.mail_fetch(Mailbox("x", "u1", "smoke-signals", {})) is None
        # The default checkpoints live in the host's state location for the plugin.
        assert (host.directory / "plugins" / "exchange" / "state.sqlite3").exists()
        again = host.mail_fetch(mailbox_for(dovecot_user, "pop3", mailbox_id=report.mailbox_id))
        assert again is not None
        assert again.delivered == 0
