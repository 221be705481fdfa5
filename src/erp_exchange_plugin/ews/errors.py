"""Turn exchangelib's and requests' exceptions into our typed errors (:mod:`erp_exchange_plugin.errors`)."""

from __future__ import annotations

import requests
from exchangelib import errors as ex

from erp_exchange_plugin.errors import (
    AccessDenied,
    AuthenticationFailed,
    ExchangeError,
    HostUnreachable,
    ImpersonationDenied,
    MailboxNotFound,
    ServerError,
    ThrottledTooLong,
    TlsUntrusted,
)
from erp_exchange_plugin.settings import ExchangeSettings


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def translate(exc: BaseException, settings: ExchangeSettings) -> ExchangeError:
    """The typed error for ``exc``, raised while talking to ``settings``' server."""
    if isinstance(exc, ExchangeError):
        return exc
    where = settings.ews_url
    chain = _chain(exc)
    if any(isinstance(e, requests.exceptions.SSLError) for e in chain):
        return TlsUntrusted(
            f"the certificate of {where} is not trusted: {exc}",
            hint="check the server's certificate, or set ca_file to the CA that issued it",
        )
    if any(isinstance(e, requests.exceptions.ConnectionError | requests.exceptions.Timeout) for e in chain):
        return HostUnreachable(f"cannot reach {where}: {exc}", hint="check ews_url, DNS, proxy and firewall")
    if isinstance(exc, ex.ErrorNonExistentMailbox):
        return MailboxNotFound(
            f"mailbox {settings.mailbox} does not exist on {where}",
            hint="check the mailbox address (its primary SMTP address)",
        )
    if isinstance(
        exc, ex.ErrorImpersonateUserDenied | ex.ErrorImpersonationDenied | ex.ErrorImpersonationFailed
    ):
        return ImpersonationDenied(
            f"application {settings.client_id} may not act as {settings.mailbox}: {exc}",
            hint="grant the app full_access_as_app (or ApplicationImpersonation) and check application "
            "access policies",
        )
    if isinstance(exc, ex.ErrorAccessDenied):
        return AccessDenied(f"{settings.mailbox}: access denied: {exc}")
    if isinstance(exc, ex.UnauthorizedError):
        return AuthenticationFailed(
            f"{where} rejected the credentials of {settings.mailbox} (HTTP 401)",
            hint="for oauth_app check the app's EWS permission; for ntlm/basic the user name and password",
        )
    if isinstance(exc, ex.RateLimitError | ex.ErrorServerBusy):
        return ThrottledTooLong(f"{where} is throttling {settings.mailbox}: {exc}")
    if isinstance(exc, ex.ErrorTimeoutExpired) and "ConnectionError" in str(exc):
        return HostUnreachable(f"cannot reach {where}: {exc}", hint="check ews_url, DNS, proxy and firewall")
    if isinstance(exc, ex.TransportError | ex.ErrorInternalServerTransientError | ex.ErrorTimeoutExpired):
        return ServerError(f"{where} failed: {type(exc).__name__}: {exc}")
    return ServerError(f"{where}: unexpected {type(exc).__name__}: {exc}")
