"""``on_mail_fetch`` under the scheduler: per-mailbox lease, back-off and disable.

The host's mail service decides how often it polls each mailbox (``on_mail_fetch`` is called per
mailbox, and the host reads ``mail_interval_minutes`` from the effective settings to plan its
polls): the plugin does not second-guess a healthy mailbox's cadence, since a host may poll on
demand (a user pressing "fetch now"). What the plugin adds per mailbox (scope ``mail:<id>``):

- a lease in the state database, so two host processes never fetch one mailbox at once;
- a single transient failure delays nothing (the host's next regular poll retries it); from the
  second failure in a row, polls before the back-off's end are answered at once without contacting
  the server (the back-off grows from ``mail_interval_minutes``, :mod:`.health`);
- a permanent failure, or ``disable_after_failures`` transient ones in a row, disables the
  mailbox's fetch with one alert; polls then report that it is disabled until
  ``erp-exchange enable`` is run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from erp_exchange_plugin.mail import fetch_mailbox
from erp_exchange_plugin.mail.errors import MailboxBusy
from erp_exchange_plugin.mail.fetch import TokenSource
from erp_exchange_plugin.plugin_types import MailProvider
from erp_exchange_plugin.scheduler import health
from erp_exchange_plugin.scheduler.leases import DEFAULT_TTL, acquire
from erp_exchange_plugin.settings.catalogue import BY_NAME
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.state.database import Database
from erp_exchange_plugin.state.health import RunState, mail_scope
from erp_hookspecs import HostServices, Mailbox, MailFetchReport


def _limits(host: HostServices, user_id: str) -> tuple[timedelta, int]:
    settings = resolve_user(host, user_id).settings
    if settings is None:
        return (
            timedelta(minutes=int(BY_NAME["mail_interval_minutes"].default)),  # type: ignore[call-overload]
            int(BY_NAME["disable_after_failures"].default),  # type: ignore[call-overload]
        )
    return settings.mail_interval, settings.disable_after_failures


def fetch_scheduled(
    host: HostServices,
    mailbox: Mailbox,
    providers: Mapping[str, MailProvider],
    db: Database,
    *,
    now: datetime,
    tokens: TokenSource | None = None,
    exchange: Callable[[Mailbox], Any] | None = None,
    lease_ttl: timedelta = DEFAULT_TTL,
    clock: Callable[[], datetime] | None = None,
) -> MailFetchReport | None:
    """Fetch ``mailbox`` unless it is disabled, backing off, or fetched by another run right now."""
    if mailbox.protocol not in providers:
        return None
    scope = mail_scope(mailbox.mailbox_id)
    state = rows.get(db, mailbox.user_id, scope)
    if state.state is RunState.DISABLED:
        return MailFetchReport(
            mailbox_id=mailbox.mailbox_id,
            errors=(
                f"mail fetch of this mailbox is disabled since {state.disabled_at:%Y-%m-%d %H:%M} UTC after "
                f"{state.last_error_code}: {state.last_error_message}; an administrator enables it again "
                f"(erp-exchange enable --user {mailbox.user_id} --mailbox {mailbox.mailbox_id})",
            ),
        )
    if not health.is_due(state, now):
        return MailFetchReport(
            mailbox_id=mailbox.mailbox_id,
            skipped=(
                f"backing off after {state.failures} failure(s) ({state.last_error_code}); "
                f"next attempt from {state.next_due_at:%Y-%m-%d %H:%M:%S} UTC",
            ),
        )
    lease = (
        acquire(db, scope, ttl=lease_ttl) if clock is None else acquire(db, scope, ttl=lease_ttl, clock=clock)
    )
    if lease is None:
        busy = MailboxBusy("another run is fetching this mailbox right now; this poll was skipped")
        return MailFetchReport(mailbox_id=mailbox.mailbox_id, errors=(busy.message,))
    interval, disable_after = _limits(host, mailbox.user_id)
    with lease:
        health.started(db, mailbox.user_id, scope, now)
        failures: list[BaseException] = []
        report = fetch_mailbox(
            host, mailbox, providers, tokens=tokens, exchange=exchange, on_failure=failures.append
        )
        assert report is not None
        if failures:
            health.failed(
                db, host.alerts, mailbox.user_id, scope, now, interval, failures[0], disable_after, grace=1
            )
        else:
            counts = {
                "delivered": report.delivered,
                "duplicates": report.duplicates,
                "skipped": len(report.skipped),
            }
            problem = ("mail.partial", "; ".join(report.errors)) if report.errors else None
            health.succeeded(db, mailbox.user_id, scope, now, timedelta(0), counts, problem)
        return report
