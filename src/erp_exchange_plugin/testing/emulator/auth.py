"""Who is calling EWS: authentication of the HTTP request and the caller's rights on mailboxes.

:func:`authenticate` turns the ``Authorization`` header into a :class:`Principal` (an app with a bearer token
from the local Entra ID, or a mailbox user with Basic credentials) or an :class:`AuthFailure` carrying the 401
reply Exchange would send. :func:`target_mailbox` applies the ExchangeImpersonation rules: app tokens must
impersonate, the app needs the right to that mailbox, users may only impersonate nobody.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

from .entra import EWS_APP_ROLE, EntraDirectory, TokenError
from .reply import Reply
from .store import Mailbox, Store


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: ``kind`` 'app' (bearer) or 'user' (Basic)."""

    kind: str
    name: str
    allowed: frozenset[str] | None = None

    def may_open(self, mailbox: Mailbox) -> bool:
        """Whether this caller may open ``mailbox`` (app access policy, or own mailbox / delegate)."""
        if self.kind == "app":
            return self.allowed is None or mailbox.address in self.allowed
        return mailbox.address == self.name or self.name in mailbox.delegates


class AuthFailure(Exception):
    """Authentication failed; ``reply`` is the HTTP 401 to send."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


class ImpersonationFault(Exception):
    """The impersonation rules reject the request; becomes a SOAP fault with ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _unauthorized(www_authenticate: list[str], diagnostics: str | None = None) -> AuthFailure:
    headers = {"WWW-Authenticate": ", ".join(www_authenticate), "request-id": secrets.token_hex(16)}
    if diagnostics:
        headers["x-ms-diagnostics"] = diagnostics
    return AuthFailure(Reply(401, b"", headers))


def _bearer_challenge(entra: EntraDirectory, error: str | None = None) -> str:
    challenge = (
        f'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", '
        f'trusted_issuers="00000001-0000-0000-c000-000000000000@{entra.home_tenant_id}", '
        f'token_types="app_asserted_user_v1 service_asserted_app_v1", '
        f'authorization_uri="{entra.base_url}/common/oauth2/authorize"'
    )
    return challenge + (f', error="{error}"' if error else "")


def authenticate(authorization: str | None, entra: EntraDirectory, store: Store, realm: str) -> Principal:
    """The caller behind an Authorization header; raise :class:`AuthFailure` with Exchange's 401."""
    challenges = [_bearer_challenge(entra), f'Basic realm="{realm}"']
    if not authorization:
        raise _unauthorized(challenges)
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        try:
            claims = entra.validate(credentials.strip())
        except TokenError as exc:
            raise _unauthorized(
                [_bearer_challenge(entra, "invalid_token")],
                f'2000001;reason="{exc.reason}";error_category="invalid_token"',
            ) from None
        if claims.tenant_id != entra.home_tenant_id:
            raise _unauthorized(
                [_bearer_challenge(entra, "invalid_token")],
                '2000001;reason="The token was issued by a tenant that is not this organization";'
                'error_category="invalid_token"',
            )
        if EWS_APP_ROLE not in claims.roles:
            raise _unauthorized(
                [_bearer_challenge(entra, "invalid_token")],
                '2000008;reason="The token contains no permissions, or permissions can not be understood.";'
                'error_category="invalid_grant"',
            )
        tenant = entra.tenant(claims.tenant_id)
        app = tenant.apps.get(claims.app_id) if tenant else None
        if app is None:
            raise _unauthorized([_bearer_challenge(entra, "invalid_token")], '2000001;reason="Unknown app"')
        return Principal("app", app.client_id, app.mailboxes)
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(credentials.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthorized(challenges) from None
        address = user.split("\\")[-1].lower()
        mailbox = store.mailbox(address)
        if (
            mailbox is None
            or mailbox.password is None
            or not secrets.compare_digest(mailbox.password.encode(), password.encode())
        ):
            raise _unauthorized(challenges)
        return Principal("user", mailbox.address)
    raise _unauthorized(challenges)


def target_mailbox(principal: Principal, impersonated: str | None, store: Store) -> Mailbox:
    """The mailbox a request acts on; raise :class:`ImpersonationFault` as Exchange would."""
    if impersonated is None:
        if principal.kind == "app":
            raise ImpersonationFault(
                "ErrorInvalidExchangeImpersonationHeaderData",
                "ExchangeImpersonation SOAP header must be present for this type of OAuth token.",
            )
        mailbox = store.mailbox(principal.name)
        if mailbox is None:
            raise ImpersonationFault("ErrorNonExistentMailbox", "The SMTP address has no mailbox associated.")
        return mailbox
    mailbox = store.mailbox(impersonated)
    if mailbox is None:
        raise ImpersonationFault(
            "ErrorNonExistentMailbox", f"The SMTP address {impersonated} has no mailbox associated with it."
        )
    if principal.kind == "user" and mailbox.address == principal.name:
        return mailbox
    if principal.kind == "user" or not principal.may_open(mailbox):
        raise ImpersonationFault(
            "ErrorImpersonateUserDenied",
            "The account does not have permission to impersonate the requested user.",
        )
    return mailbox
