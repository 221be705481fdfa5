"""The entry into mail fetching for the ``on_mail_fetch`` host hook: :func:`fetch_mailbox`.

It picks the provider of ``mailbox.protocol`` (``None`` when we have none, so other plugins may
answer), opens the mail checkpoints in the plugin's state database, runs the provider's fetcher,
and turns every failure into report lines instead of an exception: the host's mail service
polls many mailboxes and one broken mailbox must not stop the others. Permanent failures
(wrong password, untrusted certificate, invalid settings, a missing folder) also raise an alert
for the user's administrator; transient ones (an unreachable server) are only reported, since
the next poll may succeed.

Only one fetch of a given mailbox runs at a time in a process; across processes and hosts the
scheduler's lease guarantees the same (and a second fetch would still not deliver twice to a
host that honours the keys).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from erp_exchange_plugin.errors import ExchangeError
from erp_exchange_plugin.log import get_logger, scrub_text
from erp_exchange_plugin.mail.checkpoints import MailCheckpoints
from erp_exchange_plugin.mail.connect import TokenCallable
from erp_exchange_plugin.mail.delivery import FetchContext, partial_report
from erp_exchange_plugin.mail.errors import MailboxBusy
from erp_exchange_plugin.plugin_types import MailProvider
from erp_hookspecs import Alert, HostServices, Mailbox, MailFetchReport, Severity

log = get_logger(__name__)

STATE_PLUGIN_NAME = "exchange"
"""The name under which the plugin asks the host for its state location."""

TokenSource = Callable[[Mailbox], TokenCallable | None]
"""Given a mailbox, returns its access-token callable (for XOAUTH2), or ``None``."""

_running: set[str] = set()
_running_lock = threading.Lock()


def fetch_mailbox(
    host: HostServices,
    mailbox: Mailbox,
    providers: Mapping[str, MailProvider],
    *,
    checkpoints: MailCheckpoints | None = None,
    tokens: TokenSource | None = None,
    exchange: Callable[[Mailbox], Any] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
) -> MailFetchReport | None:
    """Fetch new mail of ``mailbox`` into ``host.mail_sink``; the body of ``on_mail_fetch``.

    :param host: The host services.
    :param mailbox: The mailbox to poll.
    :param providers: The usable mail providers by protocol (``ExtensionManager.mail_providers``).
    :param checkpoints: Where mail checkpoints live; by default the plugin's state database at
        ``host.state_location("exchange").database_url`` (opened and migrated once per process).
    :param tokens: Gives the token callable of a mailbox whose settings say ``auth: xoauth2``.
    :param exchange: Opens the EWS connection of a mailbox's user (for ``ews`` mailboxes).
    :param on_failure: Called with the exception when the fetch failed; the caller then owns the
        alerting (the scheduler alerts once, when it disables the mailbox), so none is raised here.
    :returns: The report, or ``None`` when no provider serves ``mailbox.protocol``. Never raises
        for a failure of the mailbox: failures are report ``errors`` (plus an alert when permanent).
    """
    provider = providers.get(mailbox.protocol)
    if provider is None:
        return None
    with _running_lock:
        busy = mailbox.mailbox_id in _running
        if not busy:
            _running.add(mailbox.mailbox_id)
    if busy:
        error = MailboxBusy("a fetch of this mailbox is already running; this one was skipped")
        return _failed(host, mailbox, error.message, error)
    try:
        if checkpoints is None:
            checkpoints = MailCheckpoints.open(host.state_location(STATE_PLUGIN_NAME).database_url)
        context = FetchContext(
            checkpoints=checkpoints,
            token=tokens(mailbox) if tokens is not None else None,
            exchange=exchange,
        )
        report: MailFetchReport = provider.fetcher(host, mailbox, context)
        log.info(
            "mail fetched",
            mailbox_id=mailbox.mailbox_id,
            protocol=mailbox.protocol,
            delivered=report.delivered,
            duplicates=report.duplicates,
            skipped=len(report.skipped),
        )
        return report
    except ExchangeError as exc:
        if on_failure is not None:
            on_failure(exc)
        return _failed(
            host, mailbox, exc.message + (f" ({exc.hint})" if exc.hint else ""), exc, alert=on_failure is None
        )
    except Exception as exc:  # a bug, or the host's sink failing: report it, never crash the host's poll
        if on_failure is not None:
            on_failure(exc)
        return _failed(host, mailbox, f"{type(exc).__name__}: {scrub_text(str(exc))}", exc)
    finally:
        with _running_lock:
            _running.discard(mailbox.mailbox_id)


def _failed(
    host: HostServices, mailbox: Mailbox, text: str, exc: BaseException, *, alert: bool = True
) -> MailFetchReport:
    permanent = isinstance(exc, ExchangeError) and exc.permanent
    log.warning(
        "mail fetch failed",
        mailbox_id=mailbox.mailbox_id,
        protocol=mailbox.protocol,
        error=text,
        code=getattr(exc, "code", type(exc).__name__),
        permanent=permanent,
    )
    if permanent and alert:
        assert isinstance(exc, ExchangeError)
        host.alerts.raise_alert(
            Alert(
                code=exc.code,
                message=f"mailbox {mailbox.mailbox_id!r}: {text}",
                severity=Severity.ERROR,
                user_id=mailbox.user_id,
                for_admin=exc.for_admin,
            )
        )
    done = partial_report(exc)
    if done is None:
        return MailFetchReport(mailbox_id=mailbox.mailbox_id, errors=(text,))
    return MailFetchReport(
        mailbox_id=mailbox.mailbox_id,
        delivered=done.delivered,
        duplicates=done.duplicates,
        skipped=done.skipped,
        errors=(*done.errors, text),
    )
