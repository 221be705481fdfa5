"""Wrong password, untrusted certificate, unreachable server, XOAUTH2: typed errors with clear
messages, reports and alerts without secrets."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable

import pytest
import structlog

from erp_exchange_plugin.errors import AuthenticationFailed, HostUnreachable, TlsUntrusted
from erp_exchange_plugin.mail import FetchContext, MailCheckpoints
from erp_exchange_plugin.mail.connect import xoauth2_string
from erp_exchange_plugin.mail.imap import fetch_imap
from erp_exchange_plugin.mail.pop3 import fetch_pop3
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.dovecot_fixtures import DovecotUser
from erp_hookspecs import Mailbox, MailFetchReport
from tests.mail.conftest import Fetcher, mailbox_for, message

FETCHERS: dict[str, Callable[[StubHost, Mailbox, FetchContext], MailFetchReport]] = {
    "imap": fetch_imap,
    "pop3": fetch_pop3,
}
CANARY = "canary-pw-7f3e9b1c"


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_wrong_password_is_a_typed_error_and_never_shows_the_password(
    dovecot_user: DovecotUser,
    host: StubHost,
    fetch: Fetcher,
    checkpoints: MailCheckpoints,
    protocol: str,
    security: str,
) -> None:
    dovecot_user.deliver(message(0))
    mailbox = mailbox_for(dovecot_user, protocol, security, password=CANARY)
    with pytest.raises(AuthenticationFailed) as caught:
        FETCHERS[protocol](host, mailbox, FetchContext(checkpoints))
    assert caught.value.permanent
    assert f"rejected the login of {dovecot_user.name!r}" in str(caught.value)
    assert "Authentication failed" in str(caught.value)

    with structlog.testing.capture_logs() as logs:
        report = fetch(mailbox)
    assert report.delivered == 0
    assert len(report.errors) == 1
    assert "rejected the login" in report.errors[0]
    (alert,) = host.raised_alerts()
    assert (alert.code, alert.user_id, alert.for_admin) == ("auth.failed", "u1", True)
    everything = repr((caught.value, report, alert, logs, caught.value.__cause__, caught.value.__context__))
    assert CANARY not in everything
    assert host.received_mail() == []


@pytest.mark.parametrize(
    ("protocol", "security"), [("imap", "tls"), ("imap", "starttls"), ("pop3", "tls"), ("pop3", "starttls")]
)
def test_an_untrusted_certificate_is_a_typed_error(
    dovecot_user: DovecotUser,
    host: StubHost,
    fetch: Fetcher,
    checkpoints: MailCheckpoints,
    protocol: str,
    security: str,
) -> None:
    dovecot_user.deliver(message(0))
    mailbox = mailbox_for(dovecot_user, protocol, security, ca_file=None)  # the system's CAs only
    with pytest.raises(TlsUntrusted, match="is not trusted: "):
        FETCHERS[protocol](host, mailbox, FetchContext(checkpoints))
    report = fetch(mailbox)
    assert "set ca_file" in report.errors[0]
    assert [a.code for a in host.raised_alerts()] == ["net.tls_untrusted"]
    assert host.received_mail() == []


def test_another_ca_is_not_trusted_either(
    dovecot_user: DovecotUser, host: StubHost, checkpoints: MailCheckpoints, tmp_path: object
) -> None:
    from pathlib import Path

    from erp_exchange_plugin.testing.dovecot import make_ca_and_server_cert

    assert isinstance(tmp_path, Path)
    other_ca, _cert, _key = make_ca_and_server_cert(tmp_path)
    mailbox = mailbox_for(dovecot_user, ca_file=str(other_ca))
    with pytest.raises(TlsUntrusted):
        fetch_imap(host, mailbox, FetchContext(checkpoints))


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_an_unreachable_server_is_a_transient_typed_error(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher, checkpoints: MailCheckpoints, protocol: str
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    mailbox = mailbox_for(dovecot_user, protocol, port=closed_port)
    with pytest.raises(HostUnreachable, match=f"127.0.0.1:{closed_port} refused the connection") as caught:
        FETCHERS[protocol](host, mailbox, FetchContext(checkpoints))
    assert not caught.value.permanent
    report = fetch(mailbox)
    assert "refused the connection" in report.errors[0]
    assert host.raised_alerts() == []  # transient: reported, the next poll may succeed


def test_xoauth2_string_is_the_documented_sasl_format() -> None:
    raw = xoauth2_string("someone@example.com", "ya29.token")
    assert raw == b"user=someone@example.com\x01auth=Bearer ya29.token\x01\x01"
    assert base64.b64encode(raw) == b"dXNlcj1zb21lb25lQGV4YW1wbGUuY29tAWF1dGg9QmVhcmVyIHlhMjkudG9rZW4BAQ=="


@pytest.mark.parametrize(
    ("protocol", "security"), [("imap", "tls"), ("imap", "starttls"), ("pop3", "tls"), ("pop3", "starttls")]
)
def test_xoauth2_on_the_wire(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher, protocol: str, security: str
) -> None:
    """Dovecot 2.3 checks an XOAUTH2 token against the passdb like a password (see testing.dovecot)."""
    dovecot_user.deliver(message(0))
    tokens_asked: list[str] = []

    def token_source(mailbox: Mailbox) -> Callable[[], str]:
        def token() -> str:
            tokens_asked.append(mailbox.mailbox_id)
            return dovecot_user.password

        return token

    fetch.tokens = token_source
    mailbox = mailbox_for(dovecot_user, protocol, security, auth="xoauth2", password=None)
    report = fetch(mailbox)
    assert (report.delivered, report.errors) == (1, ())
    assert tokens_asked == [mailbox.mailbox_id]
    assert f"Login: user=<{dovecot_user.name}>, method=XOAUTH2" in dovecot_user.server.log_text()

    fetch.tokens = lambda _mailbox: lambda: "expired-token-123"
    dovecot_user.deliver(message(1))
    rejected = fetch(mailbox)
    assert rejected.delivered == 0
    assert "rejected the login" in rejected.errors[0]
    assert "expired-token-123" not in repr((rejected, host.raised_alerts()))


def test_xoauth2_without_a_token_source_says_so(dovecot_user: DovecotUser, fetch: Fetcher) -> None:
    report = fetch(mailbox_for(dovecot_user, auth="xoauth2", password=None))
    assert "no token source is configured" in report.errors[0]


def test_invalid_settings_are_reported_per_field(
    dovecot_user: DovecotUser, host: StubHost, fetch: Fetcher
) -> None:
    good = mailbox_for(dovecot_user)
    bad = {**good.settings, "port": 0, "security": "sometimes", "password": CANARY}
    mailbox = Mailbox(good.mailbox_id, good.user_id, good.protocol, bad)
    report = fetch(mailbox)
    assert "port: must be between 1 and 65535" in report.errors[0]
    assert "security: must be one of tls, starttls, none" in report.errors[0]
    assert [a.code for a in host.raised_alerts()] == ["mail.settings_invalid"]
    assert CANARY not in repr((report, host.raised_alerts()))


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_a_server_that_never_greets_times_out_as_unreachable(
    dovecot_user: DovecotUser, host: StubHost, checkpoints: MailCheckpoints, protocol: str
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel completes the handshake; nobody ever answers
        port = silent.getsockname()[1]
        mailbox = mailbox_for(dovecot_user, protocol, "starttls", port=port, timeout_seconds=1)
        with pytest.raises(HostUnreachable, match="did not answer in time"):
            FETCHERS[protocol](host, mailbox, FetchContext(checkpoints))


def test_the_canary_secret_appears_nowhere(
    dovecot: object, host: StubHost, fetch: Fetcher, capsys: pytest.CaptureFixture[str]
) -> None:
    """A whole flow with a secret password and token, good and bad runs: every captured byte is searched."""
    from erp_exchange_plugin.testing.dovecot import Dovecot

    assert isinstance(dovecot, Dovecot)
    canary = "canary-9c1d2e3f4a5b"
    dovecot.add_user("canaryuser", canary)
    user = DovecotUser(dovecot, "canaryuser", canary)
    user.deliver(message(1))
    with structlog.testing.capture_logs() as logs:
        reports = [
            fetch(mailbox_for(user, "imap")),
            fetch(mailbox_for(user, "pop3", "starttls")),
            fetch(mailbox_for(user, "imap", password=canary + "-wrong")),
            fetch(mailbox_for(user, "pop3", ca_file=None)),
            fetch(mailbox_for(user, "imap", port=1, security="none")),
        ]
        fetch.tokens = lambda _mailbox: lambda: canary
        reports.append(fetch(mailbox_for(user, "imap", auth="xoauth2", password=None)))
        fetch.tokens = lambda _mailbox: lambda: canary + "-expired"
        reports.append(fetch(mailbox_for(user, "pop3", auth="xoauth2", password=None)))
    assert [r.delivered for r in reports] == [1, 1, 0, 0, 0, 1, 0]
    assert all(r.errors for r in reports[2:5])
    assert reports[6].errors
    captured = capsys.readouterr()
    texts = [repr(reports), repr(logs), captured.out, captured.err, repr(host.raised_alerts())]
    assert not [t for t in texts if canary in t]
    state_files = list((host.directory / "plugins").rglob("state.sqlite3*"))
    assert state_files
    for path in [*state_files, *host.directory.glob("erp.sqlite3*")]:
        assert canary.encode() not in path.read_bytes(), path
