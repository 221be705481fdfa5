"""Our retry policy around exchangelib calls (exchangelib itself runs with ``FailFast``).

- ``ErrorServerBusy``: wait the server's ``BackOffMilliseconds`` (never less), then retry;
- transient server failures (HTTP 5xx, transient errors): wait with exponential back-off;
- HTTP 401: drop the token, fetch a new one, retry once; a second 401 fails clearly;
- the total wait per run is capped: past it, :class:`~erp_exchange_plugin.errors.ThrottledTooLong`.

Everything else is translated into a typed error at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from exchangelib import errors as ex

from erp_exchange_plugin.errors import AuthenticationFailed, ThrottledTooLong
from erp_exchange_plugin.ews.account import Connection
from erp_exchange_plugin.ews.errors import translate
from erp_exchange_plugin.log import get_logger

log = get_logger(__name__)
T = TypeVar("T")

_TRANSIENT = (ex.ErrorInternalServerTransientError, ex.ErrorTimeoutExpired, ex.MalformedResponseError)


@dataclass
class RetryPolicy:
    """How long one run may wait, and how.

    :param max_total_wait: Seconds one run may spend waiting in total.
    :param default_back_off: Seconds to wait when the server is busy but names no back-off.
    :param max_transient_attempts: Attempts for one call on transient failures.
    :param sleep: The sleep function (tests pass one that records).
    """

    max_total_wait: float = 300.0
    default_back_off: float = 10.0
    max_transient_attempts: int = 3
    sleep: Callable[[float], None] = time.sleep
    waited: float = field(default=0.0)
    retries: int = field(default=0)

    def _wait(self, seconds: float, why: str, conn: Connection) -> None:
        if self.waited + seconds > self.max_total_wait:
            raise ThrottledTooLong(
                f"{conn.settings.ews_url} asked {conn.settings.mailbox} to wait {seconds:.1f} s more ({why}); "
                f"this run already waited {self.waited:.1f} s of at most {self.max_total_wait:.0f} s",
                hint="the next run continues where this one stopped",
                retry_after=seconds,
            )
        log.info("backing off", user_id=conn.settings.user_id, seconds=seconds, why=why)
        self.sleep(seconds)
        self.waited += seconds
        self.retries += 1

    def call(
        self,
        conn: Connection,
        fn: Callable[[], T],
        *,
        idempotent: bool = True,
        passthrough: tuple[type[BaseException], ...] = (),
    ) -> T:
        """Run ``fn`` (which talks to ``conn``) under this policy.

        :param idempotent: ``False`` for writes that must not happen twice (CreateItem): they are
            retried only when the server certainly did nothing (busy, 401); any other failure is
            raised, and the caller's intent journal finds out later what was written.
        :param passthrough: Exceptions raised as they are, for the caller to handle.
        """
        renewed = False
        transient = 0
        while True:
            try:
                return fn()
            except passthrough:
                raise
            except ex.ErrorServerBusy as exc:
                back_off = exc.back_off if exc.back_off else self.default_back_off
                self._wait(float(back_off), "server busy", conn)
            except ex.UnauthorizedError as exc:
                if renewed or not conn.renew_token():
                    raise AuthenticationFailed(
                        f"{conn.settings.ews_url} rejected the credentials of {conn.settings.mailbox} "
                        f"(HTTP 401){' even with a new token' if renewed else ''}",
                        hint="check the app's EWS permission (full_access_as_app) or the user name and password",
                    ) from exc
                renewed = True
                self.retries += 1
            except _TRANSIENT as exc:
                if not idempotent or (
                    isinstance(exc, ex.ErrorTimeoutExpired) and "ConnectionError" in str(exc)
                ):
                    raise translate(exc, conn.settings) from None
                transient += 1
                if transient >= self.max_transient_attempts:
                    raise translate(exc, conn.settings) from None
                self._wait(min(2.0**transient, 30.0), type(exc).__name__, conn)
            except ex.EWSError as exc:
                raise translate(exc, conn.settings) from None
