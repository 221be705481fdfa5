"""OAuth 2.0 client-credentials tokens from msal, for Entra ID and for the local emulator alike.

One ``ConfidentialClientApplication`` per (authority, client id, secret, CA file), created on
first use and cached; thread-safe. msal serves tokens from its cache until less than five
minutes are left. :meth:`TokenProvider.invalidate` drops an application's tokens (after a 401).
msal's answers are turned into the typed errors of :mod:`erp_exchange_plugin.errors`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msal
import requests

from erp_exchange_plugin.auth.cache import PersistedTokenCache
from erp_exchange_plugin.auth.http import make_session
from erp_exchange_plugin.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ExchangeError,
    HostUnreachable,
    IdentityPlatformBusy,
    TlsUntrusted,
    UnknownApplication,
    UnknownTenant,
    WrongClientSecret,
)
from erp_exchange_plugin.log import get_logger
from erp_exchange_plugin.secret import Secret
from erp_exchange_plugin.settings import ExchangeSettings

log = get_logger(__name__)

EWS_SCOPE = "https://outlook.office365.com/.default"
"""The scope of an app token for EWS (Exchange Online's resource)."""


@dataclass(frozen=True, slots=True)
class Token:
    """An access token and when it expires (epoch seconds)."""

    access_token: Secret
    expires_at: float


def _key(settings: ExchangeSettings) -> tuple[str, str, str, str]:
    if settings.authority is None or settings.client_id is None or settings.client_secret is None:
        raise ConfigurationError(
            f"user {settings.user_id!r}: auth_mode oauth_app needs tenant_id, client_id and client_secret"
        )
    secret_hash = hashlib.sha256(settings.client_secret.reveal().encode()).hexdigest()
    return (settings.authority, settings.client_id, secret_hash, str(settings.ca_file or ""))


def network_error(exc: BaseException, what: str) -> ExchangeError:
    """Turn a requests exception into :class:`TlsUntrusted` or :class:`HostUnreachable`."""
    if isinstance(exc, requests.exceptions.SSLError):
        return TlsUntrusted(
            f"the certificate of {what} is not trusted: {exc}",
            hint="check the server's certificate, or set ca_file to the CA that issued it",
        )
    return HostUnreachable(f"cannot reach {what}: {exc}", hint="check the URL, DNS, proxy and firewall")


def _auth_error(result: Mapping[str, Any], settings: ExchangeSettings) -> ExchangeError:
    codes = set(result.get("error_codes") or ())
    error = str(result.get("error", ""))
    description = str(result.get("error_description", "")).split("\r\n")[0]
    if 7000215 in codes or 7000222 in codes:
        return WrongClientSecret(
            f"the identity platform rejected the client secret of application {settings.client_id}: "
            f"{description}",
            hint="create a new client secret for the app registration and enter its value (not its id)",
        )
    if 700016 in codes:
        return UnknownApplication(
            f"application {settings.client_id} is not registered in tenant {settings.tenant_id}: {description}",
            hint="check client_id (the Application (client) ID) and tenant_id",
        )
    if 90002 in codes or 90023 in codes:
        return UnknownTenant(
            f"tenant {settings.tenant_id} does not exist at {settings.authority_host}: {description}",
            hint="check tenant_id (the Directory (tenant) ID)",
        )
    if error in ("temporarily_unavailable", "server_error") or codes & {50196, 90033}:
        # throttled (HTTP 429) or a transient failure of the identity platform: the next run may work
        return IdentityPlatformBusy(
            f"the identity platform {settings.authority_host} is busy or failing ({error}): {description}",
            hint="the scheduler retries with back-off",
        )
    return AuthenticationFailed(f"the identity platform refused a token ({error}): {description}")


class TokenProvider:
    """Gets and caches app tokens with msal.

    :param cache_path: Persist msal's token cache to this file (mode 0600); ``None``: in memory.
    :param clock: Seconds since the epoch (tests pass a fake).
    :param timeout: Seconds for each HTTP request to the identity platform.
    """

    def __init__(
        self,
        cache_path: Path | None = None,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self._persisted = PersistedTokenCache(cache_path) if cache_path is not None else None
        self._cache = self._persisted.cache if self._persisted is not None else msal.TokenCache()
        self._apps: dict[tuple[str, str, str, str], msal.ConfidentialClientApplication] = {}
        self._verified: set[tuple[str, str, str, str]] = set()
        """Apps whose secret the identity platform accepted in this process. msal's cache is keyed by
        client id and authority, not by secret: without this, settings naming the same app with a
        wrong secret would be served a token another user's (right) secret had fetched."""
        self._lock = threading.RLock()
        self._clock = clock
        self._timeout = timeout
        self.requests_made = 0

    def _app(
        self, settings: ExchangeSettings, cache: msal.TokenCache | None = None
    ) -> msal.ConfidentialClientApplication:
        key = _key(settings)
        with self._lock:
            app = self._apps.get(key) if cache is None else None
            if app is not None:
                return app
            assert settings.client_secret is not None
            try:
                app = msal.ConfidentialClientApplication(
                    settings.client_id,
                    client_credential=settings.client_secret.reveal(),
                    authority=settings.authority,
                    instance_discovery=False,
                    http_client=make_session(settings.ca_file),
                    token_cache=self._cache if cache is None else cache,
                    timeout=self._timeout,
                )
            except requests.exceptions.RequestException as exc:
                raise network_error(exc, f"the identity platform {settings.authority_host}") from None
            except ValueError as exc:
                if "authority" in str(exc).lower():
                    raise UnknownTenant(
                        f"tenant {settings.tenant_id} is unknown at {settings.authority_host}",
                        hint="check tenant_id (the Directory (tenant) ID) and authority_host",
                    ) from None
                raise ConfigurationError(f"msal refused the settings: {exc}") from None
            if cache is None:
                self._apps[key] = app
            return app

    def acquire(self, settings: ExchangeSettings) -> Token:
        """Return a token with at least five minutes left, from the cache or the identity platform."""
        app = self._app(settings)
        with self._lock:
            try:
                result = app.acquire_token_for_client(scopes=[EWS_SCOPE])
            except requests.exceptions.RequestException as exc:
                raise network_error(exc, f"the identity platform {settings.authority_host}") from None
            if result.get("token_source") == "identity_provider":
                self.requests_made += 1
                if "access_token" in result:
                    self._verified.add(_key(settings))
            elif "access_token" in result and _key(settings) not in self._verified:
                # a cached token this secret never fetched: prove the secret with a fresh request
                try:
                    result = self._app(settings, msal.TokenCache()).acquire_token_for_client(
                        scopes=[EWS_SCOPE]
                    )
                except requests.exceptions.RequestException as exc:
                    raise network_error(exc, f"the identity platform {settings.authority_host}") from None
                self.requests_made += 1
                if "access_token" in result:
                    self._verified.add(_key(settings))
            if self._persisted is not None:
                self._persisted.save_if_changed()
        if "access_token" not in result:
            raise _auth_error(result, settings)
        expires_in = float(result.get("expires_in", 0))
        log.debug("token acquired", user_id=settings.user_id, source=result.get("token_source"))
        return Token(access_token=Secret(str(result["access_token"])), expires_at=self._clock() + expires_in)

    def invalidate(self, settings: ExchangeSettings) -> None:
        """Forget the tokens of ``settings``' application, so the next :meth:`acquire` fetches a new one."""
        app = self._app(settings)
        with self._lock:
            app.remove_tokens_for_client()
            if self._persisted is not None:
                self._persisted.save_if_changed()
        log.info("token dropped", user_id=settings.user_id)
