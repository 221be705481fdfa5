"""Fixtures of the mail tests: the session's Dovecot, a stub host, mailboxes, message builders.

Everything runs against a real Dovecot (one per session) and the stub host; the only doubles are
host-side sink wrappers that fail or count, which is how a real host's mail store can behave.
"""

from __future__ import annotations

import imaplib
import itertools
import poplib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from erp_exchange_plugin.mail import MailCheckpoints, fetch_mailbox
from erp_exchange_plugin.manager import ExtensionManager
from erp_exchange_plugin.plugin_types import MailProvider
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.dovecot import Dovecot
from erp_exchange_plugin.testing.dovecot_fixtures import DovecotUser
from erp_hookspecs import Delivery, InboundMessage, Mailbox, MailFetchReport

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def providers() -> Mapping[str, MailProvider]:
    """The mail providers as the extension manager loads them from the built-in module."""
    manager = ExtensionManager(entry_points=False, builtins=["erp_exchange_plugin.mail.builtin"])
    return manager.mail_providers


@pytest.fixture
def host(tmp_path: Path) -> Iterator[StubHost]:
    """A stub host with user u1 and no plugins."""
    with StubHost(tmp_path / "erp", load_entry_points=False) as h:
        h.add_user("u1", "Ursula One", "u1@example.com")
        yield h


@pytest.fixture
def checkpoints(host: StubHost) -> MailCheckpoints:
    """The mail checkpoints in the stub host's state location for the plugin."""
    return MailCheckpoints.open(host.state_location("exchange").database_url)


PORTS = {
    ("imap", "tls"): "imaps",
    ("imap", "starttls"): "imap",
    ("imap", "none"): "imap",
    ("pop3", "tls"): "pop3s",
    ("pop3", "starttls"): "pop3",
    ("pop3", "none"): "pop3",
}


def mailbox_for(
    user: DovecotUser,
    protocol: str = "imap",
    security: str = "tls",
    mailbox_id: str | None = None,
    **settings: Any,
) -> Mailbox:
    """A host mailbox of ``user`` on the session's Dovecot, trusting its CA; ``settings`` override."""
    server = user.server
    values: dict[str, Any] = {
        "host": server.host,
        "port": getattr(server.ports, PORTS[(protocol, security)]),
        "security": security,
        "username": user.name,
        "password": user.password,
        "ca_file": str(server.ca_file),
    }
    values.update(settings)
    values = {k: v for k, v in values.items() if v is not None}
    return Mailbox(mailbox_id or f"mbx-{next(_ids)}", "u1", protocol, values)


def message(n: int, *, size: int = 0, message_id: str | None = "default", body: bytes | None = None) -> bytes:
    """A small well-formed message; ``size`` pads the body to about that many bytes."""
    mid = f"<msg-{n}@example.com>" if message_id == "default" else message_id
    head = f"From: sender@example.com\r\nTo: u1@example.com\r\nSubject: message {n}\r\n"
    if mid is not None:
        head += f"Message-ID: {mid}\r\n"
    text = body if body is not None else f"body of message {n}\r\n".encode()
    if size > len(text):
        text += b"x" * 70 + b"\r\n"
        text = text * (size // len(text) + 1)
    return head.encode() + b"\r\n" + text


@dataclass
class Fetcher:
    """Calls :func:`fetch_mailbox` the way ``on_mail_fetch`` will."""

    host: Any
    providers: Mapping[str, MailProvider]
    checkpoints: MailCheckpoints
    tokens: Callable[[Mailbox], Callable[[], str] | None] | None = None

    def __call__(self, mailbox: Mailbox, host: Any = None) -> MailFetchReport:
        report = fetch_mailbox(
            host or self.host, mailbox, self.providers, checkpoints=self.checkpoints, tokens=self.tokens
        )
        assert report is not None
        return report


@pytest.fixture
def fetch(host: StubHost, providers: Mapping[str, MailProvider], checkpoints: MailCheckpoints) -> Fetcher:
    """``fetch(mailbox)`` -> report, through fetch_mailbox with the stub host."""
    return Fetcher(host, providers, checkpoints)


@dataclass
class SinkWrapper:
    """A host's mail store that fails on purpose: wraps the stub host's sink.

    :param fail_before: Raise *before* storing on these call numbers (1-based): the host refused.
    :param fail_after: Store, then raise on these call numbers: the host stored it and then the
        answer was lost (a crash between delivery and checkpoint).
    """

    inner: Any
    fail_before: set[int] = field(default_factory=set)
    fail_after: set[int] = field(default_factory=set)
    calls: int = 0
    keys: list[str] = field(default_factory=list)

    def deliver(self, message: InboundMessage) -> Delivery:
        self.calls += 1
        self.keys.append(message.key)
        if self.calls in self.fail_before:
            raise RuntimeError(f"host refused message {self.calls}")
        answer = self.inner.deliver(message)
        if self.calls in self.fail_after:
            raise RuntimeError(f"crashed after storing message {self.calls}")
        return answer


class WrappedHost:
    """The stub host with its mail sink replaced by a :class:`SinkWrapper`."""

    def __init__(self, host: StubHost, sink: SinkWrapper) -> None:
        self._host = host
        self.mail_sink = sink

    def __getattr__(self, name: str) -> Any:
        return getattr(self._host, name)


def wrap(host: StubHost, **kw: Any) -> WrappedHost:
    """The host with a failing/counting sink."""
    return WrappedHost(host, SinkWrapper(host.mail_sink, **kw))


def imap_login(user: DovecotUser) -> imaplib.IMAP4:
    """A plain loopback IMAP session of ``user`` (to look at the server's side)."""
    conn = imaplib.IMAP4(user.server.host, user.server.ports.imap)
    conn.login(user.name, user.password)
    return conn


def imap_flags(user: DovecotUser, folder: str = "INBOX") -> dict[bytes, bytes]:
    """Subject -> FLAGS of every message in ``folder``."""
    conn = imap_login(user)
    try:
        _typ, count = conn.select(folder, readonly=True)
        if int(count[0] or 0) == 0:
            return {}
        _typ, data = conn.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        out: dict[bytes, bytes] = {}
        for item in data:
            if isinstance(item, tuple):
                subject = item[1].strip().split(b": ", 1)[-1]
                out[subject] = item[0].split(b"FLAGS (", 1)[1].split(b")", 1)[0]
        return out
    finally:
        conn.logout()


def pop3_count(user: DovecotUser) -> int:
    """How many messages ``user`` has over POP3."""
    conn = poplib.POP3(user.server.host, user.server.ports.pop3)
    try:
        conn.user(user.name)
        conn.pass_(user.password)
        return int(conn.stat()[0])
    finally:
        conn.quit()


def server(user: DovecotUser) -> Dovecot:
    """The Dovecot of ``user``."""
    return user.server
