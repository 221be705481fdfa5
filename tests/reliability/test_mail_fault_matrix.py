"""The mail half of the fault matrix: each fault, for each protocol, through ``on_mail_fetch`` under the scheduler.

A proxy in front of the session's Dovecot misbehaves (or the mailbox's password is wrong, or the
server is down); the fetch that meets the fault must leave the mailbox's status saying what happened
(``backing_off`` with the error's code, or ``disabled`` with one alert for a permanent error); then
the fault is gone, the back-off passes (or an administrator enables the mailbox) and the next
fetches deliver every message exactly once. Adding a protocol (EWS mail) is one line in ``PROTOCOLS``.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.scheduler import health
from erp_exchange_plugin.state import StateStore
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.state.health import Health, mail_scope
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.dovecot_fixtures import DovecotUser
from erp_hookspecs import Mailbox
from tests.mail.conftest import PORTS, message
from tests.reliability.fault_proxy import FaultProxy

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
PROTOCOLS = ["imap", "pop3"]  # "ews" when EWS mail lands (its faults come from the emulator)
MESSAGES = 6


@dataclass(frozen=True)
class MailFault:
    name: str
    state: str
    code: str


MAIL_FAULTS = [
    MailFault("drop_mid_fetch", "backing_off", "mail.server_error"),
    MailFault("stall_past_timeout", "backing_off", "net.unreachable"),
    MailFault("garbage_reply", "backing_off", "mail.server_error"),
    MailFault("server_down", "backing_off", "net.unreachable"),
    MailFault("wrong_password", "disabled", "auth.failed"),
]


@pytest.fixture
def host(tmp_path: Path) -> Iterator[StubHost]:
    with StubHost(tmp_path / "erp", load_entry_points=["exchange"]) as erp:
        erp.add_user("u1", "Ursula", "u1@example.com")
        yield erp
        plugin(erp).close()


def plugin(host: StubHost) -> ExchangePlugin:
    found = dict(host.plugin_manager.list_name_plugin())["exchange"]
    assert isinstance(found, ExchangePlugin)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(host: StubHost, mailbox_id: str) -> Health:
    store = StateStore(host.state_location("exchange").database_url)
    try:
        return rows.get(store.db, "u1", mail_scope(mailbox_id))
    finally:
        store.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("fault", MAIL_FAULTS, ids=lambda f: f.name)
def test_mail_fault_loses_nothing_doubles_nothing_and_status_tells(
    host: StubHost, dovecot_user: DovecotUser, protocol: str, fault: MailFault
) -> None:
    server = dovecot_user.server
    for n in range(MESSAGES):
        dovecot_user.deliver(message(n, size=3000))
    proxy = FaultProxy((server.host, getattr(server.ports, PORTS[(protocol, "none")])))
    settings = {
        "host": "127.0.0.1",
        "port": proxy.port,
        "security": "none",
        "username": dovecot_user.name,
        "password": dovecot_user.password,
        "timeout_seconds": 1,
    }
    mailbox_id = f"{protocol}-{fault.name}"
    good = Mailbox(mailbox_id, "u1", protocol, settings)
    bad = good
    if fault.name == "drop_mid_fetch":
        proxy.mode, proxy.drop_after = "drop_mid", 8000  # a message or two gets through
    elif fault.name == "stall_past_timeout":
        proxy.mode = "stall"
    elif fault.name == "garbage_reply":
        proxy.mode = "garbage"
    elif fault.name == "server_down":
        bad = Mailbox(mailbox_id, "u1", protocol, {**settings, "port": free_port()})
    elif fault.name == "wrong_password":
        bad = Mailbox(mailbox_id, "u1", protocol, {**settings, "password": "not-the-password"})
    try:
        plugin(host).clock = lambda: T0
        met = host.mail_fetch(bad)
        assert met is not None
        assert met.errors
        seen = status(host, mailbox_id)
        assert (seen.state.value, seen.last_error_code) == (fault.state, fault.code), seen
        assert seen.failures == 1
        if fault.state != "disabled":
            assert seen.next_due_at == T0  # one glitch: the host's next poll retries it
            again = host.mail_fetch(bad)
            assert again is not None
            assert again.errors
            seen = status(host, mailbox_id)
            assert seen.failures == 2
            assert seen.next_due_at is not None
            assert seen.next_due_at > T0
        if fault.state == "disabled":
            (alert,) = host.raised_alerts(user_id="u1")
            assert alert.code == "exchange.mail.disabled"
            again = host.mail_fetch(bad)  # disabled: answered at once, no second alert
            assert again is not None
            assert "disabled" in again.errors[0]
            assert len(host.raised_alerts(user_id="u1")) == 1
            store = StateStore(host.state_location("exchange").database_url)
            health.enable(store.db, "u1", mail_scope(mailbox_id))
            store.close()
        else:
            waiting = host.mail_fetch(good)  # still backing off: the server is not contacted
            assert waiting is not None
            assert waiting.delivered == 0
            assert "backing off" in waiting.skipped[0]
            assert not host.raised_alerts(user_id="u1")

        proxy.mode = "pass"
        plugin(host).clock = lambda: T0 + timedelta(days=1)
        recovered = host.mail_fetch(good)
        assert recovered is not None
        assert recovered.errors == ()
        assert host.mail_fetch(good) is not None
    finally:
        proxy.close()
    after = status(host, mailbox_id)
    assert (after.state.value, after.failures) == ("ok", 0)
    stored = Counter(m.raw for m in host.received_mail(mailbox_id=mailbox_id))
    assert stored == Counter(message(n, size=3000) for n in range(MESSAGES))
