"""What a run's outcome does to a user's scope: back-off, disable with an alert, enable again.

- success: ``ok``, failures reset, next run one interval later;
- transient failure (a busy, failing or unreachable server): ``backing_off``, the next run waits
  ``interval * 2 ** (failures - 1)`` (at most :data:`MAX_BACK_OFF`), and never less than the
  server asked for (``ExchangeError.retry_after``); after ``disable_after`` consecutive failures
  (the tenant setting ``disable_after_failures``; 0 = never) the scope is disabled;
- permanent failure (``ExchangeError.permanent``: a wrong secret, a missing mailbox, impersonation
  denied, an untrusted certificate): disabled at once.

Disabling raises one alert for the administrator, when the state begins; ticks after that skip
the scope silently (``erp-exchange status`` shows it) until :func:`enable` is called
(``erp-exchange enable``), the "Test & Enable" of Dynamics 365's server-side sync.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from erp_exchange_plugin.errors import ExchangeError
from erp_exchange_plugin.log import get_logger, scrub_text
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.state.database import Database
from erp_exchange_plugin.state.health import SYNC, Health, RunState
from erp_hookspecs import Alert, Alerts, Severity

log = get_logger(__name__)

MAX_BACK_OFF = timedelta(hours=6)
"""The longest wait between two attempts while backing off."""

MAX_MESSAGE = 500
"""Error messages are cut to this many characters in the state database."""


def is_due(health: Health, now: datetime) -> bool:
    """True when the scope may run at ``now`` (never run, or its next due time has come)."""
    if health.state is RunState.DISABLED:
        return False
    return health.next_due_at is None or health.next_due_at <= now


def back_off(interval: timedelta, failures: int, retry_after: float | None, grace: int = 0) -> timedelta:
    """The wait after ``failures`` consecutive transient failures (none for the first ``grace`` ones)."""
    if failures <= grace:
        wait = timedelta(0)
    else:
        wait = min(interval * (2 ** max(failures - grace - 1, 0)), MAX_BACK_OFF)
    if retry_after:
        wait = max(wait, timedelta(seconds=retry_after))
    return wait


def started(db: Database, user_id: str, scope: str, now: datetime) -> Health:
    """A run starts now."""
    with db.transaction():
        health = replace(rows.get(db, user_id, scope), last_started_at=now)
        rows.put(db, health)
    return health


def succeeded(
    db: Database,
    user_id: str,
    scope: str,
    now: datetime,
    interval: timedelta,
    counts: dict[str, Any],
    problem: tuple[str, str] | None = None,
) -> Health:
    """The run worked (``problem``: code and sentence of item-level errors it reported, if any)."""
    with db.transaction():
        health = rows.get(db, user_id, scope)
        if health.state is RunState.DISABLED:  # an admin action or another process won meanwhile
            return health
        health = replace(
            health,
            state=RunState.OK,
            failures=0,
            next_due_at=now + interval,
            last_success_at=now,
            last_counts=counts,
        )
        if problem is not None:
            code, text = problem
            health = replace(
                health,
                last_error_at=now,
                last_error_code=code,
                last_error_message=scrub_text(text)[:MAX_MESSAGE],
            )
        rows.put(db, health)
    return health


def _describe(exc: BaseException) -> tuple[str, str, bool]:
    if isinstance(exc, ExchangeError):
        text = exc.message + (f" ({exc.hint})" if exc.hint else "")
        return exc.code, text, exc.permanent
    return "plugin.unexpected", f"{type(exc).__name__}: {scrub_text(str(exc))}", False


def failed(
    db: Database,
    alerts: Alerts,
    user_id: str,
    scope: str,
    now: datetime,
    interval: timedelta,
    exc: BaseException,
    disable_after: int,
    *,
    grace: int = 0,
) -> Health:
    """The run failed with ``exc``: back off, or disable (and alert once).

    :param grace: Consecutive failures that do not delay the next run yet (mail: the host's next
        regular poll retries a single glitch; the back-off starts with the second failure in a row).
    """
    code, text, permanent = _describe(exc)
    text = scrub_text(text)[:MAX_MESSAGE]
    retry_after = exc.retry_after if isinstance(exc, ExchangeError) else None
    with db.transaction():
        before = rows.get(db, user_id, scope)
        failures = before.failures + 1
        disable = permanent or (disable_after > 0 and failures >= disable_after)
        health = replace(
            before,
            state=RunState.DISABLED if disable else RunState.BACKING_OFF,
            failures=failures,
            next_due_at=None if disable else now + back_off(interval, failures, retry_after, grace),
            last_error_at=now,
            last_error_code=code,
            last_error_message=text,
            disabled_at=(before.disabled_at or now) if disable else None,
        )
        rows.put(db, health)
    if disable and before.state is not RunState.DISABLED:
        what = "Exchange sync" if scope == SYNC else f"mail fetch of mailbox {scope.removeprefix('mail:')!r}"
        why = "a permanent error" if permanent else f"{failures} failures in a row"
        alerts.raise_alert(
            Alert(
                code="exchange.sync.disabled" if scope == SYNC else "exchange.mail.disabled",
                message=(
                    f"{what} of user {user_id!r} is disabled after {why}: {code}: {text}. "
                    f"Fix the cause, then enable it again: erp-exchange enable --user {user_id}"
                ),
                severity=Severity.ERROR,
                user_id=user_id,
                for_admin=True,
            )
        )
        log.warning("disabled", user_id=user_id, scope=scope, code=code, failures=failures)
    else:
        log.info("backing off", user_id=user_id, scope=scope, code=code, failures=failures)
    return health


def enable(db: Database, user_id: str, scope: str | None = None) -> list[Health]:
    """Enable ``user_id``'s scope (every scope by default) again: ``ok``, due at once, failures reset."""
    changed: list[Health] = []
    with db.transaction():
        for health in rows.all_health(db):
            if health.user_id != user_id or (scope is not None and health.scope != scope):
                continue
            health = replace(health, state=RunState.OK, failures=0, next_due_at=None, disabled_at=None)
            rows.put(db, health)
            changed.append(health)
    return changed
