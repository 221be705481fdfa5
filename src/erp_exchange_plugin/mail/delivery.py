"""Handing messages to the host's mail sink, in the order that never loses one: deliver, then checkpoint.

A provider (IMAP, POP3) walks its server and calls :meth:`MailRun.hand_over` for each new
message. :class:`MailRun`:

1. skips a message whose content digest it already handed over (this run or, per the state
   store, an earlier one), counting it as a duplicate;
2. calls ``host.mail_sink.deliver`` with the content-based key of :mod:`.message`; an exception
   from the sink ends the run and the message stays unrecorded (and, for the provider, unread
   and on the server);
3. only after the sink returned, queues the checkpoint change (the provider's UID or UIDL plus the
   delivered-message row) and lets the provider run server-side actions.

Queued checkpoint changes are committed together every :attr:`FetchContext.flush_every` messages,
every :attr:`FetchContext.flush_seconds`, and when the run ends, whether it ends well or not. So the
checkpoint never runs ahead of the host: a crash loses at most the last batch of *checkpoint*
writes, whose messages the host already has and answers ``DUPLICATE`` for (same key) when they
come again. Nothing is lost and a host that honours the key stores each message once.

It also applies the limits (per message: skipped for good with a report line and an alert; per
run: the rest waits for the next run) and builds the :class:`~erp_hookspecs.MailFetchReport`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from erp_exchange_plugin.log import get_logger
from erp_exchange_plugin.mail.checkpoints import MailCheckpoints
from erp_exchange_plugin.mail.connect import TokenCallable
from erp_exchange_plugin.mail.message import digest, inspect, message_key
from erp_exchange_plugin.mail.settings import MailboxSettings
from erp_hookspecs import Alert, Delivery, HostServices, InboundMessage, Mailbox, MailFetchReport, Severity

log = get_logger(__name__)

Checkpoint = Callable[[], None]
"""A checkpoint write, run inside the batch's transaction."""


@dataclass(frozen=True, slots=True)
class FetchContext:
    """What a provider's fetcher gets besides the host and the mailbox.

    :param checkpoints: The mail checkpoints in the plugin's state database.
    :param token: Returns an OAuth 2.0 access token for XOAUTH2, or ``None`` when the plugin has no
        token source for this mailbox.
    :param flush_every: Commit queued checkpoint writes after this many messages.
    :param flush_seconds: ... or after this many seconds.
    :param exchange: Opens the EWS connection of a mailbox's user (for the ``ews`` provider), or
        ``None`` when the plugin has none to give.
    """

    checkpoints: MailCheckpoints
    token: TokenCallable | None = None
    exchange: Callable[[Mailbox], Any] | None = None
    flush_every: int = 200
    flush_seconds: float = 1.0


def _mib(n: int) -> str:
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{n} bytes"


class MailRun:
    """One run over one mailbox (see the module docstring).

    :param host: The host services (its ``mail_sink`` and ``alerts``).
    :param mailbox: The mailbox being fetched.
    :param settings: Its validated settings (for the limits).
    :param context: Checkpoints and batching.
    """

    def __init__(
        self, host: HostServices, mailbox: Mailbox, settings: MailboxSettings, context: FetchContext
    ) -> None:
        self.host = host
        self.mailbox = mailbox
        self.settings = settings
        self.context = context
        self.checkpoints = context.checkpoints
        self.delivered = 0
        self.duplicates = 0
        self.messages = 0
        self.bytes = 0
        self.skipped: list[str] = []
        self.errors: list[str] = []
        self.limit_reached: str | None = None
        self._oversized = 0
        self._pending: list[Checkpoint] = []
        self._last_flush = time.monotonic()
        self._handed: set[str] = set()
        self.log = log.bind(mailbox_id=mailbox.mailbox_id, protocol=mailbox.protocol)

    # -- limits --------------------------------------------------------------------------------------

    def too_large(self, size: int, where: str) -> bool:
        """True (and noted for the report and alert) when a message of ``size`` bytes is over the per-message limit."""
        limit = self.settings.limits.max_message_bytes
        if size <= limit:
            return False
        self._oversized += 1
        self.skipped.append(f"{where}: {_mib(size)} is over the limit of {_mib(limit)} per message; skipped")
        self.log.warning("message over the size limit skipped", where=where, size=size, limit=limit)
        return True

    def reserve(self, size: int) -> bool:
        """Count a message of ``size`` bytes against the per-run limits before fetching it.

        :returns: ``True`` when it fits; ``False`` (and :attr:`limit_reached` set) when it would
            pass a limit: the run stops there and the message waits for the next run. The first
            message of a run always fits the byte limit, so one large message cannot block a mailbox.
        """
        limits = self.settings.limits
        if limits.max_messages_per_run is not None and self.messages >= limits.max_messages_per_run:
            self.limit_reached = f"the limit of {limits.max_messages_per_run} messages per run was reached"
        elif (
            limits.max_bytes_per_run is not None
            and self.messages > 0
            and self.bytes + size > limits.max_bytes_per_run
        ):
            self.limit_reached = f"the limit of {_mib(limits.max_bytes_per_run)} per run was reached"
        if self.limit_reached is not None:
            return False
        self.messages += 1
        self.bytes += size
        return True

    # -- delivery --------------------------------------------------------------------------------------

    def hand_over(self, raw: bytes, *, received_at: datetime | None, checkpoint: Checkpoint) -> Delivery:
        """Deliver one message (counted already by :meth:`reserve`), then queue ``checkpoint``; returns the host's answer.

        A message this mailbox already handed over is not delivered again: the answer is
        ``DUPLICATE`` and only ``checkpoint`` is queued. An exception from the sink propagates
        and nothing is queued for this message.
        """
        content = digest(raw)
        mailbox_id = self.mailbox.mailbox_id
        if content in self._handed or self.checkpoints.was_delivered(mailbox_id, content):
            self.duplicates += 1
            self._queue(checkpoint)
            return Delivery.DUPLICATE
        message_id, warnings = inspect(raw)
        if warnings:
            self.log.warning("malformed message delivered raw", warnings=list(warnings), size=len(raw))
        answer = self.host.mail_sink.deliver(
            InboundMessage(
                key=message_key(mailbox_id, content),
                user_id=self.mailbox.user_id,
                mailbox_id=mailbox_id,
                raw=raw,
                received_at=received_at,
                warnings=warnings,
            )
        )
        answer = Delivery(answer)
        if answer is Delivery.ACCEPTED:
            self.delivered += 1
        else:
            self.duplicates += 1
        self._handed.add(content)
        size = len(raw)

        def remember() -> None:
            self.checkpoints.put_delivered(mailbox_id, content, message_id, size)
            checkpoint()

        self._queue(remember)
        return answer

    def known(self, checkpoint: Checkpoint) -> None:
        """Count a message the host already has (found by reconciliation) and queue its checkpoint."""
        self.duplicates += 1
        self._queue(checkpoint)

    def advance(self, checkpoint: Checkpoint) -> None:
        """Queue a checkpoint change that delivers nothing (a skipped message, an empty folder)."""
        self._queue(checkpoint)

    def _queue(self, checkpoint: Checkpoint) -> None:
        self._pending.append(checkpoint)
        if (
            len(self._pending) >= self.context.flush_every
            or time.monotonic() - self._last_flush >= self.context.flush_seconds
        ):
            self.flush()

    def flush(self) -> None:
        """Commit every queued checkpoint write in one transaction."""
        pending, self._pending = self._pending, []
        self._last_flush = time.monotonic()
        if not pending:
            return
        with self.checkpoints.transaction():
            for write in pending:
                write()

    # -- the end -----------------------------------------------------------------------------------------

    def report(self) -> MailFetchReport:
        """The report of the run; raises the alerts for skipped messages and a reached run limit."""
        skipped = list(self.skipped)
        if self.limit_reached:
            skipped.append(f"{self.limit_reached}; the remaining messages wait for the next run")
        user_id = self.mailbox.user_id
        where = f"mailbox {self.mailbox.mailbox_id!r}"
        if self._oversized:
            self.host.alerts.raise_alert(
                Alert(
                    code="mail.message_too_large",
                    message=(
                        f"{self._oversized} message(s) in {where} are larger than "
                        f"{_mib(self.settings.limits.max_message_bytes)} and were not fetched; "
                        "read them in a mail client or raise limits.max_message_bytes"
                    ),
                    severity=Severity.WARNING,
                    user_id=user_id,
                )
            )
        if self.limit_reached:
            self.host.alerts.raise_alert(
                Alert(
                    code="mail.run_limit",
                    message=f"{where}: {self.limit_reached}; the rest is fetched in the next runs",
                    severity=Severity.INFO,
                    user_id=user_id,
                )
            )
        return MailFetchReport(
            mailbox_id=self.mailbox.mailbox_id,
            delivered=self.delivered,
            duplicates=self.duplicates,
            skipped=tuple(skipped),
            errors=tuple(self.errors),
        )


PARTIAL_REPORT = "erp_mail_partial_report"


def attach_partial_report(exc: BaseException, report: MailFetchReport) -> None:
    """Attach what a failed run did before ``exc`` so the caller can report both."""
    setattr(exc, PARTIAL_REPORT, report)


def partial_report(exc: BaseException) -> MailFetchReport | None:
    """The report a failed run attached to ``exc``, if any."""
    found = getattr(exc, PARTIAL_REPORT, None)
    return found if isinstance(found, MailFetchReport) else None
