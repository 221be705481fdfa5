"""Typed errors an administrator can act on.

Every error names what is wrong and what to do, never contains a secret (messages pass
through :func:`~erp_exchange_plugin.log.scrub_text`), and says whether it is *permanent*
(retrying cannot help: a wrong secret, a missing mailbox) or *transient* (a busy or
unreachable server). The scheduler disables a user's sync at once on a permanent error.
"""

from __future__ import annotations

from typing import ClassVar

from erp_exchange_plugin.log import scrub_text


class ExchangeError(Exception):
    """Base class: something between us and Exchange (or the identity platform) failed.

    :param message: What is wrong, in words an administrator understands.
    :param hint: What to do about it.
    :param retry_after: Seconds the server asked us to wait before the next attempt, when it said.
    """

    code: ClassVar[str] = "exchange.error"
    permanent: ClassVar[bool] = False
    for_admin: ClassVar[bool] = True

    def __init__(self, message: str, *, hint: str | None = None, retry_after: float | None = None) -> None:
        self.message = scrub_text(message)
        self.hint = scrub_text(hint) if hint else None
        self.retry_after = retry_after
        super().__init__(self.message if not self.hint else f"{self.message} ({self.hint})")


class ConfigurationError(ExchangeError):
    """The settings are not usable (see the field-level errors)."""

    code = "settings.invalid"
    permanent = True


class WrongClientSecret(ExchangeError):
    """The identity platform rejected the client secret (AADSTS7000215, or expired: AADSTS7000222)."""

    code = "auth.wrong_client_secret"
    permanent = True


class UnknownTenant(ExchangeError):
    """The directory (tenant) id does not exist at the authority."""

    code = "auth.unknown_tenant"
    permanent = True


class UnknownApplication(ExchangeError):
    """The application (client) id is not registered in the tenant (AADSTS700016)."""

    code = "auth.unknown_application"
    permanent = True


class AuthenticationFailed(ExchangeError):
    """Authentication failed for another reason (the message carries the server's words)."""

    code = "auth.failed"
    permanent = True


class IdentityPlatformBusy(ExchangeError):
    """The identity platform throttled us (HTTP 429, AADSTS50196) or failed transiently (AADSTS90033)."""

    code = "auth.busy"


class HostUnreachable(ExchangeError):
    """No connection to the server (DNS, refused, timeout)."""

    code = "net.unreachable"


class TlsUntrusted(ExchangeError):
    """The server's certificate is not trusted (unknown CA, wrong host name, expired)."""

    code = "net.tls_untrusted"
    permanent = True


class MailboxNotFound(ExchangeError):
    """The mailbox does not exist on the server."""

    code = "ews.mailbox_not_found"
    permanent = True


class ImpersonationDenied(ExchangeError):
    """The application may not act as this mailbox (no ApplicationImpersonation right / access policy)."""

    code = "ews.impersonation_denied"
    permanent = True


class AccessDenied(ExchangeError):
    """The account may not access a folder or item."""

    code = "ews.access_denied"
    permanent = True


class ThrottledTooLong(ExchangeError):
    """The server kept asking us to back off for longer than this run may wait."""

    code = "ews.throttled"


class ServerError(ExchangeError):
    """The server failed in a way that may pass (HTTP 5xx, a malformed or truncated answer)."""

    code = "ews.server_error"
