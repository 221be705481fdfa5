"""Client-side helpers for connecting the real clients (msal, exchangelib) to an emulator.

* :func:`trusting_session`: a ``requests.Session`` that trusts only the emulator's CA and ignores
  ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` (which would otherwise override ``verify``; see
  ``notes/local-servers.md``). Pass it to msal as ``http_client``.
* :func:`msal_app`: a ``ConfidentialClientApplication`` for the emulator's authority.
* :class:`MsalCredentials`: exchangelib credentials that take tokens from msal and refresh through it.
* :func:`trust_ca_in_exchangelib`: make exchangelib verify TLS against the emulator's CA (for its origin only).
* :func:`connect`: an exchangelib ``Account`` for a mailbox, app-only with impersonation, or Basic.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msal
import requests
from exchangelib import (
    BASIC,
    IMPERSONATION,
    OAUTH2,
    Account,
    Build,
    Configuration,
    Credentials,
    FailFast,
    OAuth2AuthorizationCodeCredentials,
    Version,
)
from oauthlib.oauth2 import OAuth2Token

from erp_exchange_plugin.ews import transport

EWS_SCOPE = "https://outlook.office365.com/.default"
API_BUILDS = {
    "Exchange2010_SP2": (14, 3, 123, 4),
    "Exchange2013": (15, 0, 516, 32),
    "Exchange2013_SP1": (15, 0, 847, 32),
    "Exchange2016": (15, 1, 2507, 6),
}


def trusting_session(ca_file: str) -> requests.Session:
    """A session that verifies TLS against ``ca_file`` only, whatever the *_CA_BUNDLE variables say."""
    session = requests.Session()
    session.verify = ca_file
    session.trust_env = False
    return session


def msal_app(authority: str, client_id: str, client_secret: str, ca_file: str) -> Any:
    """A confidential client for the emulator's Entra ID (instance discovery off, CA trusted)."""
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=client_secret,
        authority=authority,
        instance_discovery=False,
        http_client=trusting_session(ca_file),
    )


class MsalCredentials(OAuth2AuthorizationCodeCredentials):  # type: ignore[misc]
    """Access tokens from msal's client-credentials flow; exchangelib calls :meth:`refresh` on expiry."""

    def __init__(self, app: Any, skew_seconds: int = 120, identity: Any = None) -> None:
        self._msal_app = app
        self._skew = skew_seconds
        super().__init__(access_token=self._acquire(), identity=identity)

    def _acquire(self) -> Any:
        result = self._msal_app.acquire_token_for_client(scopes=[EWS_SCOPE])
        if "access_token" not in result:
            raise RuntimeError(
                f"token request failed: {result.get('error')}: {result.get('error_description')}"
            )
        token = {"access_token": result["access_token"], "token_type": result.get("token_type", "Bearer")}
        token["expires_at"] = int(time.time()) + int(result["expires_in"]) - self._skew
        return OAuth2Token(token)

    def refresh(self, session: Any) -> None:
        """Get a token from msal (its cache, or the emulator's token endpoint)."""
        self.access_token = self._acquire()


def trust_ca_in_exchangelib(ca_file: str, base_url: str) -> None:
    """Make exchangelib verify ``base_url`` against ``ca_file``.

    Uses the connector's own adapter (:mod:`erp_exchange_plugin.ews.transport`), which keeps one CA per
    origin, so several emulators (and the connector's own settings) live side by side.
    """
    transport.trust_ca_for(base_url, Path(ca_file))
    transport.install()


def connect(
    address: str,
    ews_url: str,
    credentials: Any,
    *,
    api_version: str | None = "Exchange2016",
    retry_policy: Any = None,
    max_connections: int | None = None,
    access_type: str = IMPERSONATION,
) -> Any:
    """An exchangelib Account: OAuth credentials impersonate ``address``; ``Credentials`` use Basic."""
    version = Version(build=Build(*API_BUILDS[api_version])) if api_version else None
    auth_type = BASIC if isinstance(credentials, Credentials) else OAUTH2
    config = Configuration(
        service_endpoint=ews_url,
        credentials=credentials,
        auth_type=auth_type,
        version=version,
        retry_policy=retry_policy or FailFast(),
        max_connections=max_connections,
    )
    return Account(address, config=config, autodiscover=False, access_type=access_type)


__all__ = [
    "MsalCredentials",
    "connect",
    "msal_app",
    "trust_ca_in_exchangelib",
    "trusting_session",
]
