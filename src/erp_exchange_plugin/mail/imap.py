"""The IMAP provider: new messages of each configured folder, by UID, into the host's mail sink.

Built on the standard library's :mod:`imaplib` (it speaks the protocol and parses the
responses; we only read the UID, size and date items out of FETCH answers). A client library
such as IMAPClient was measured at about half imaplib's throughput on the same mailbox
(docs/mail.md, bench/mail_bench.py), which would miss the target of 1.5 x the imaplib floor.

Per folder and run:

1. ``SELECT`` (``EXAMINE`` when no server-side action is configured, so nothing changes on the
   server) and compare UIDVALIDITY with the checkpoint.
2. Same UIDVALIDITY: ``UID SEARCH UID <last+1>:*``. Another UIDVALIDITY: every UID is a
   candidate, but messages whose Message-ID and size match one already delivered are only
   counted (reconciliation); only the others are fetched, and those whose content was
   delivered already are not handed over again (see :mod:`.delivery`).
3. For 500 UIDs at a time: ``UID FETCH (RFC822.SIZE INTERNALDATE)``, the limits, then
   ``UID FETCH (BODY.PEEK[])`` (PEEK: fetching never sets ``\\Seen``) in chunks of at most 32 MiB.
4. Every message goes through :meth:`.delivery.MailRun.hand_over`; the UID checkpoint moves
   after the sink answered; mark-read / move / delete run on the accepted UIDs only.
"""

from __future__ import annotations

import base64
import imaplib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any

from erp_exchange_plugin.errors import AuthenticationFailed
from erp_exchange_plugin.mail.checkpoints import ImapCheckpoint
from erp_exchange_plugin.mail.connect import network_errors, tls_context, xoauth2_string
from erp_exchange_plugin.mail.delivery import FetchContext, MailRun, attach_partial_report
from erp_exchange_plugin.mail.errors import FolderNotFound, MailServerError, UnsupportedByServer
from erp_exchange_plugin.mail.message import normalise_message_id
from erp_exchange_plugin.mail.settings import MailboxSettings, load_settings
from erp_hookspecs import HostServices, Mailbox, MailFetchReport

UIDS_PER_COMMAND = 500
BYTES_PER_FETCH = 32 * 1024 * 1024

_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_DATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


def parse_internaldate(value: bytes) -> datetime | None:
    """``" 2-Nov-2026 03:24:16 +0100"`` as an aware datetime (``None`` when unreadable)."""
    try:
        date, clock, zone = value.decode("ascii").split()
        day, month, year = date.split("-")
        hh, mm, ss = (int(x) for x in clock.split(":"))
        text = f"{int(year):04d}-{_MONTHS[month]:02d}-{int(day):02d}T{hh:02d}:{mm:02d}:{ss:02d}{zone}"
        return datetime.fromisoformat(text)
    except (ValueError, KeyError):
        return None


def _uid_set(uids: Sequence[int]) -> str:
    """``1:3,7,9:10`` for the UIDs (ascending)."""
    parts: list[str] = []
    start = prev = uids[0]
    for uid in uids[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        parts.append(f"{start}:{prev}" if start != prev else str(start))
        start = prev = uid
    parts.append(f"{start}:{prev}" if start != prev else str(start))
    return ",".join(parts)


def _exc_text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    return (arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)).strip()


def _text(data: Sequence[Any]) -> str:
    return " ".join(x.decode(errors="replace") if isinstance(x, bytes) else str(x) for x in data if x)


class ImapSession:
    """One logged-in IMAP connection (a context manager that logs out and closes).

    :param settings: The mailbox settings.
    :param token: Returns an access token when ``settings.auth`` is ``"xoauth2"``.
    """

    def __init__(self, settings: MailboxSettings, token: Callable[[], str] | None = None) -> None:
        self.settings = settings
        self._where = (settings.host, settings.port)
        s = settings
        with self.errors():
            if s.security == "tls":
                self.conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    s.host, s.port, ssl_context=tls_context(s.ca_file), timeout=s.timeout_seconds
                )
            else:
                self.conn = imaplib.IMAP4(s.host, s.port, timeout=s.timeout_seconds)
            try:
                if s.security == "starttls":
                    if "STARTTLS" not in self.conn.capabilities:
                        raise UnsupportedByServer(
                            f"the IMAP server {s.host}:{s.port} does not offer STARTTLS"
                        )
                    self.conn.starttls(tls_context(s.ca_file))
                self._login(token)
            except BaseException:
                self._close()
                raise

    def _login(self, token: Callable[[], str] | None) -> None:
        s = self.settings
        try:
            if s.auth == "xoauth2":
                if token is None:
                    raise AuthenticationFailed(
                        f"mailbox login {s.username!r} uses XOAUTH2 but no token source is configured"
                    )
                initial = xoauth2_string(s.username, token())
                answers = iter([initial])
                # A failing server sends a JSON challenge and expects an empty answer.
                self.conn.authenticate("XOAUTH2", lambda _challenge: next(answers, b""))
            else:
                assert s.password is not None  # guaranteed by the settings schema
                self.conn.login(s.username, s.password.reveal())
        except imaplib.IMAP4.abort as exc:
            raise MailServerError(
                f"the IMAP server {s.host}:{s.port} broke off the login: {_exc_text(exc)}"
            ) from None
        except imaplib.IMAP4.error as exc:
            raise AuthenticationFailed(
                f"the IMAP server {s.host}:{s.port} rejected the login of {s.username!r} ({s.auth}): "
                f"{_exc_text(exc)}",
                hint="check the user name and password (or the token's scope and mailbox rights)",
            ) from None

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Map network errors and a dropped IMAP connection to typed errors."""
        host, port = self._where
        with network_errors("IMAP", host, port):
            try:
                yield
            except imaplib.IMAP4.abort as exc:
                raise MailServerError(f"the IMAP server {host}:{port} broke off: {_exc_text(exc)}") from None

    def command(self, name: str, *args: str) -> list[Any]:
        """``UID <name> <args>``; returns the data, raises :class:`MailServerError` on NO/BAD."""
        with self.errors():
            typ, data = self.conn.uid(name, *args)
        if typ != "OK":
            raise MailServerError(f"IMAP UID {name} failed: {_text(data)}")
        return list(data)

    def select(self, folder: str, readonly: bool) -> int:
        """Open ``folder``; returns its UIDVALIDITY."""
        with self.errors():
            typ, data = self.conn.select(_quote(folder), readonly=readonly)
            if typ != "OK":
                raise FolderNotFound(f"the IMAP folder {folder!r} cannot be opened: {_text(data)}")
            _typ, values = self.conn.response("UIDVALIDITY")
        if not values or values[0] is None:
            raise MailServerError(f"the IMAP server sent no UIDVALIDITY for {folder!r}")
        return int(values[0])

    def _close(self) -> None:
        with suppress(Exception):  # best effort on a connection that is going away
            self.conn.logout()

    def __enter__(self) -> ImapSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()


def encode_folder(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 section 5.1.3): ``Entwürfe`` -> ``Entw&APw-rfe``."""
    out: list[str] = []
    wide: list[str] = []

    def flush() -> None:
        if wide:
            packed = base64.b64encode("".join(wide).encode("utf-16-be")).rstrip(b"=").replace(b"/", b",")
            out.append("&" + packed.decode("ascii") + "-")
            wide.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            wide.append(ch)
    flush()
    return "".join(out)


def _quote(folder: str) -> str:
    if folder.upper() == "INBOX":
        return "INBOX"
    escaped = encode_folder(folder).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _fetch_items(data: Sequence[Any]) -> Iterator[tuple[bytes, bytes | None]]:
    """Yield ``(metadata, literal)`` per message of an imaplib FETCH answer."""
    for item in data:
        if isinstance(item, tuple):
            yield item[0], item[1]
        elif isinstance(item, bytes) and item not in (b")",) and _UID.search(item):
            yield item, None


def _search(session: ImapSession, after: int) -> list[int]:
    data = session.command("SEARCH", f"UID {after + 1}:*")
    uids = sorted({int(x) for x in b" ".join(d for d in data if d).split()})
    return [u for u in uids if u > after]  # "n:*" also matches the highest UID when it is below n


def _metadata(session: ImapSession, uids: Sequence[int], with_message_id: bool) -> dict[int, dict[str, Any]]:
    items = "(UID RFC822.SIZE INTERNALDATE" + (
        " BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])" if with_message_id else ")"
    )
    meta: dict[int, dict[str, Any]] = {}
    for head, literal in _fetch_items(session.command("FETCH", _uid_set(uids), items)):
        uid, size, date = _UID.search(head), _SIZE.search(head), _DATE.search(head)
        if uid is None or size is None:
            continue
        meta[int(uid.group(1))] = {
            "size": int(size.group(1)),
            "date": parse_internaldate(date.group(1)) if date else None,
            "message_id": normalise_message_id(literal) if literal is not None else None,
        }
    return meta


def _bodies(session: ImapSession, uids: Sequence[int]) -> dict[int, bytes]:
    bodies: dict[int, bytes] = {}
    pending_uid: int | None = None
    for head, literal in _fetch_items(session.command("FETCH", _uid_set(uids), "(UID BODY.PEEK[])")):
        uid = _UID.search(head)
        if literal is None:
            continue
        pending_uid = int(uid.group(1)) if uid else pending_uid
        if pending_uid is not None:
            bodies[pending_uid] = literal
    return bodies


def _chunks_by_bytes(uids: Sequence[int], meta: dict[int, dict[str, Any]]) -> Iterator[list[int]]:
    chunk: list[int] = []
    total = 0
    for uid in uids:
        size = int(meta[uid]["size"])
        if chunk and total + size > BYTES_PER_FETCH:
            yield chunk
            chunk, total = [], 0
        chunk.append(uid)
        total += size
    if chunk:
        yield chunk


def _apply_actions(session: ImapSession, uids: list[int], run: MailRun) -> None:
    """Server-side actions on UIDs the host accepted (or already had)."""
    actions = run.settings.actions
    if not uids or not actions.any:
        return
    uid_set = _uid_set(sorted(uids))
    if actions.mark_read:
        session.command("STORE", uid_set, "+FLAGS.SILENT", r"(\Seen)")
    if actions.move_to is not None:
        if "MOVE" in session.conn.capabilities:
            session.command("MOVE", uid_set, _quote(actions.move_to))
        else:
            session.command("COPY", uid_set, _quote(actions.move_to))
            _delete(session, uid_set)
    elif actions.delete:
        _delete(session, uid_set)


def _delete(session: ImapSession, uid_set: str) -> None:
    session.command("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)")
    if "UIDPLUS" in session.conn.capabilities:
        session.command("EXPUNGE", uid_set)
    else:
        with session.errors():
            session.conn.expunge()


def fetch_folder(session: ImapSession, folder: str, run: MailRun) -> None:
    """Fetch the new messages of one folder (see the module docstring)."""
    mailbox_id = run.mailbox.mailbox_id
    checkpoints = run.checkpoints
    uidvalidity = session.select(folder, readonly=not run.settings.actions.any)
    stored = checkpoints.imap(mailbox_id, folder)
    reconcile = stored is not None and stored.uidvalidity != uidvalidity
    last_uid = stored.last_uid if stored is not None and not reconcile else 0
    if reconcile:
        run.log.warning(
            "UIDVALIDITY changed: reconciling by Message-ID", folder=folder, uidvalidity=uidvalidity
        )
    if stored is None or reconcile:
        cp = ImapCheckpoint(uidvalidity, 0)
        run.advance(lambda: checkpoints.put_imap(mailbox_id, folder, cp))
    uids = _search(session, last_uid)

    def checkpoint(uid: int) -> Callable[[], None]:
        return lambda: checkpoints.put_imap(mailbox_id, folder, ImapCheckpoint(uidvalidity, uid))

    for start in range(0, len(uids), UIDS_PER_COMMAND):
        batch = uids[start : start + UIDS_PER_COMMAND]
        meta = _metadata(session, batch, with_message_id=reconcile)
        known: set[tuple[str, int]] = set()
        if reconcile:
            ids = [m["message_id"] for m in meta.values() if m["message_id"]]
            known = checkpoints.delivered_signatures(mailbox_id, ids)
        plan: list[tuple[int, str]] = []  # (uid, "known" | "skip" | "fetch"), in UID order
        for uid in batch:
            if uid not in meta:  # expunged meanwhile
                continue
            size = int(meta[uid]["size"])
            if (meta[uid]["message_id"], size) in known:
                plan.append((uid, "known"))
            elif run.too_large(size, f"IMAP {folder} UID {uid}"):
                plan.append((uid, "skip"))
            elif run.reserve(size):
                plan.append((uid, "fetch"))
            else:
                break
        answered: list[int] = []
        try:
            done = 0
            fetch = [uid for uid, kind in plan if kind == "fetch"]
            for chunk in [*_chunks_by_bytes(fetch, meta), []]:
                bodies = _bodies(session, chunk) if chunk else {}
                missing = [uid for uid in chunk if uid not in bodies]
                if missing:
                    raise MailServerError(f"the IMAP server sent no body for UID {missing[0]} in {folder!r}")
                upto = chunk[-1] if chunk else None
                while done < len(plan) and (upto is None or plan[done][0] <= upto):
                    uid, kind = plan[done]
                    if kind == "known":
                        run.known(checkpoint(uid))
                        answered.append(uid)
                    elif kind == "skip":
                        run.advance(checkpoint(uid))
                    else:
                        m = meta[uid]
                        run.hand_over(bodies[uid], received_at=m["date"], checkpoint=checkpoint(uid))
                        answered.append(uid)
                    done += 1
        finally:
            if answered:
                run.flush()  # checkpoint first: an action failing below must not cause a refetch
                _apply_actions(session, answered, run)
        if run.limit_reached:
            return


def fetch_imap(host: HostServices, mailbox: Mailbox, context: FetchContext) -> MailFetchReport:
    """The ``imap`` provider's fetcher: validate the settings, fetch every folder, report.

    :raises erp_exchange_plugin.mail.settings.MailSettingsError: invalid settings.
    :raises erp_exchange_plugin.errors.ExchangeError: typed connection, TLS, login and server errors
        (checkpoints of messages handed over before the error are committed first).
    """
    settings = load_settings("imap", mailbox.mailbox_id, mailbox.settings)
    run = MailRun(host, mailbox, settings, context)
    try:
        with ImapSession(settings, context.token) as session:
            for folder in settings.folders:
                fetch_folder(session, folder, run)
                if run.limit_reached:
                    break
    except BaseException as exc:
        run.flush()
        attach_partial_report(exc, run.report())
        raise
    run.flush()
    return run.report()
