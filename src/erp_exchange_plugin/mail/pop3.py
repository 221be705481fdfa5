"""The POP3 provider: messages whose UIDL was not handled yet, into the host's mail sink.

Built on the standard library's :mod:`poplib`. Per run: ``UIDL`` and ``LIST`` (sizes), then for
each message with a new UIDL, in server order: the limits, ``RETR``, delivery through
:meth:`.delivery.MailRun.hand_over`, the UIDL checkpoint after the sink answered, and ``DELE``
(only when ``actions.delete`` is set, only after the answer; POP3 applies it at ``QUIT``). An
oversized message's UIDL is recorded as handled, so it is reported once, not on every run.
UIDLs no longer on the server are forgotten at the end of a complete run.
"""

from __future__ import annotations

import base64
import poplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from erp_exchange_plugin.errors import AuthenticationFailed
from erp_exchange_plugin.mail.connect import network_errors, tls_context, xoauth2_string
from erp_exchange_plugin.mail.delivery import FetchContext, MailRun, attach_partial_report
from erp_exchange_plugin.mail.errors import MailServerError, UnsupportedByServer
from erp_exchange_plugin.mail.settings import MailboxSettings, load_settings
from erp_hookspecs import HostServices, Mailbox, MailFetchReport


class Pop3Session:
    """One logged-in POP3 connection; leaving the ``with`` block sends QUIT (which applies DELE).

    :param settings: The mailbox settings.
    :param token: Returns an access token when ``settings.auth`` is ``"xoauth2"``.
    """

    def __init__(self, settings: MailboxSettings, token: Callable[[], str] | None = None) -> None:
        self.settings = settings
        s = settings
        with self.errors():
            if s.security == "tls":
                self.conn: poplib.POP3 = poplib.POP3_SSL(
                    s.host, s.port, context=tls_context(s.ca_file), timeout=s.timeout_seconds
                )
            else:
                self.conn = poplib.POP3(s.host, s.port, timeout=s.timeout_seconds)
            try:
                if s.security == "starttls":
                    try:
                        self.conn.stls(tls_context(s.ca_file))
                    except poplib.error_proto as exc:
                        raise UnsupportedByServer(
                            f"the POP3 server {s.host}:{s.port} refused STLS: {exc}"
                        ) from None
                self._login(token)
            except BaseException:
                self._abandon()
                raise

    def _login(self, token: Callable[[], str] | None) -> None:
        s = self.settings
        try:
            if s.auth == "xoauth2":
                if token is None:
                    raise AuthenticationFailed(
                        f"mailbox login {s.username!r} uses XOAUTH2 but no token source is configured"
                    )
                initial = base64.b64encode(xoauth2_string(s.username, token())).decode("ascii")
                # poplib has no AUTH command; SASL with an initial response is one line (RFC 5034).
                conn: Any = self.conn
                answer = conn._shortcmd(f"AUTH XOAUTH2 {initial}")
                if not answer.startswith(b"+OK"):
                    # A "+ <challenge>" carries the server's error; an empty line ends the exchange.
                    conn._shortcmd("")
                    raise poplib.error_proto(b"-ERR XOAUTH2 exchange did not end with +OK")
            else:
                assert s.password is not None  # guaranteed by the settings schema
                self.conn.user(s.username)
                self.conn.pass_(s.password.reveal())
        except poplib.error_proto as exc:
            raise AuthenticationFailed(
                f"the POP3 server {s.host}:{s.port} rejected the login of {s.username!r} ({s.auth}): "
                f"{_text(exc)}",
                hint="check the user name and password (or the token's scope and mailbox rights)",
            ) from None

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Map network errors and protocol errors (a greeting that is no POP3) to typed errors."""
        s = self.settings
        with network_errors("POP3", s.host, s.port):
            try:
                yield
            except poplib.error_proto as exc:
                raise MailServerError(f"the POP3 server {s.host}:{s.port} answered {_text(exc)}") from None

    def command(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a poplib call; ``-ERR`` becomes :class:`MailServerError`."""
        with self.errors():
            try:
                return fn(*args)
            except poplib.error_proto as exc:
                raise MailServerError(
                    f"the POP3 server {self.settings.host}:{self.settings.port} answered {_text(exc)}"
                ) from None

    def _abandon(self) -> None:
        with suppress(Exception):  # best effort on a connection that is going away
            self.conn.close()

    def __enter__(self) -> Pop3Session:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.command(self.conn.quit)
        else:
            # QUIT would also apply DELEs, which is right for accepted messages; but after a
            # broken exchange the connection may be unusable: try, then drop it.
            try:
                self.conn.quit()
            except Exception:
                self._abandon()


def _text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    return arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)


def _listing(lines: list[bytes]) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    for line in lines:
        parts = line.split()
        if len(parts) >= 2:
            out[int(parts[0])] = parts[1]
    return out


def fetch_pop3(host: HostServices, mailbox: Mailbox, context: FetchContext) -> MailFetchReport:
    """The ``pop3`` provider's fetcher: validate the settings, fetch, report.

    :raises erp_exchange_plugin.mail.settings.MailSettingsError: invalid settings.
    :raises erp_exchange_plugin.errors.ExchangeError: typed connection, TLS, login and server errors
        (checkpoints of messages handed over before the error are committed first).
    """
    settings = load_settings("pop3", mailbox.mailbox_id, mailbox.settings)
    mailbox_id = mailbox.mailbox_id
    checkpoints = context.checkpoints
    run = MailRun(host, mailbox, settings, context)
    try:
        with Pop3Session(settings, context.token) as session:
            conn = session.conn
            _resp, uidl_lines, _octets = session.command(conn.uidl)
            _resp, list_lines, _octets = session.command(conn.list)
            uidls = {n: u.decode("ascii", "replace") for n, u in _listing(uidl_lines).items()}
            sizes = {n: int(s) for n, s in _listing(list_lines).items()}
            known = checkpoints.pop3_uidls(mailbox_id)

            def checkpoint(uidl: str) -> Callable[[], None]:
                return lambda: checkpoints.add_pop3_uidl(mailbox_id, uidl)

            for number in sorted(uidls):
                uidl = uidls[number]
                if uidl in known:
                    continue
                size = sizes.get(number, 0)
                if run.too_large(size, f"POP3 message {number} (UIDL {uidl})"):
                    run.advance(checkpoint(uidl))
                    continue
                if not run.reserve(size):
                    break
                _resp, lines, _octets = session.command(conn.retr, number)
                raw = b"\r\n".join(lines) + b"\r\n"
                run.hand_over(raw, received_at=None, checkpoint=checkpoint(uidl))
                if settings.actions.delete:
                    session.command(conn.dele, number)
            if run.limit_reached is None:
                gone = known - set(uidls.values())
                if gone:
                    run.advance(lambda: checkpoints.forget_pop3_uidls(mailbox_id, gone))
    except BaseException as exc:
        run.flush()
        attach_partial_report(exc, run.report())
        raise
    run.flush()
    return run.report()
