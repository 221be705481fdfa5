"""exchangelib credentials that take their tokens from our msal :class:`TokenProvider`.

Never exchangelib's own ``OAuth2Credentials``: it refetches tokens from
login.microsoftonline.com by itself after any error (notes/exchangelib.md 2a). These
credentials carry only an access token; when oauthlib sees it expire, exchangelib calls
:meth:`MsalCredentials.refresh`, which asks msal. Every attribute is hashable, as exchangelib's
protocol cache requires.
"""

from __future__ import annotations

from typing import Any

from exchangelib import OAuth2AuthorizationCodeCredentials
from exchangelib.account import Identity
from oauthlib.oauth2 import OAuth2Token

from erp_exchange_plugin.auth.tokens import TokenProvider
from erp_exchange_plugin.settings import ExchangeSettings

EXPIRY_SKEW_SECONDS = 120
"""Treat a token as expired this long before it really expires."""


class MsalCredentials(OAuth2AuthorizationCodeCredentials):  # type: ignore[misc]
    """Bearer tokens for one user's settings, from a :class:`TokenProvider`."""

    def __init__(self, provider: TokenProvider, settings: ExchangeSettings, identity: Identity | None = None):
        self._provider = provider
        self._settings = settings
        super().__init__(access_token=self._acquire(), identity=identity)

    def _acquire(self) -> OAuth2Token:
        token = self._provider.acquire(self._settings)
        return OAuth2Token(
            {
                "access_token": token.access_token.reveal(),
                "token_type": "Bearer",
                "expires_at": int(token.expires_at) - EXPIRY_SKEW_SECONDS,
            }
        )

    def refresh(self, session: Any = None) -> None:
        """Called by exchangelib when the token expired: take a fresh one from msal."""
        self.access_token = self._acquire()

    def renew_after_rejection(self) -> None:
        """The server rejected the token (HTTP 401): drop it from msal's cache and fetch a new one."""
        self._provider.invalidate(self._settings)
        self.access_token = self._acquire()

    def __repr__(self) -> str:
        return f"MsalCredentials(user_id={self._settings.user_id!r}, client_id={self._settings.client_id!r})"

    __str__ = __repr__
