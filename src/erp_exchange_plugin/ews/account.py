"""Build exchangelib accounts from a user's effective settings.

- ``oauth_app``: :class:`MsalCredentials` + ``ExchangeImpersonation`` of the mailbox;
- ``ntlm`` / ``basic``: user name and password, delegate access;
- an explicit server version when the settings pin one, so no version probe is sent;
- our own retry policy (:mod:`.retry`), so exchangelib's ``FailFast`` is used underneath;
- TLS verified against the settings' CA file (:mod:`.transport`).

Close what you open: :meth:`Connection.close` releases the account's connections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from exchangelib import (
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    OAUTH2,
    UTC,
    Account,
    Build,
    Configuration,
    Credentials,
    FailFast,
    Version,
)

from erp_exchange_plugin.auth.tokens import TokenProvider
from erp_exchange_plugin.ews import properties, transport
from erp_exchange_plugin.ews.credentials import MsalCredentials
from erp_exchange_plugin.ews.errors import translate
from erp_exchange_plugin.settings import AuthMode, ExchangeSettings

BUILDS: dict[str, Build] = {
    "Exchange2010": Build(14, 0),
    "Exchange2010_SP1": Build(14, 1),
    "Exchange2010_SP2": Build(14, 2),
    "Exchange2013": Build(15, 0),
    "Exchange2013_SP1": Build(15, 0, 847),
    "Exchange2016": Build(15, 1),
}
"""The build we announce for each pinnable schema version."""


@dataclass
class Connection:
    """An open exchangelib account and what it was built from."""

    settings: ExchangeSettings
    account: Any
    credentials: Any
    closed: bool = field(default=False)

    def renew_token(self) -> bool:
        """After a 401: drop the token, fetch a new one and reset the sessions. False when not OAuth."""
        if not isinstance(self.credentials, MsalCredentials):
            return False
        self.credentials.renew_after_rejection()
        self.account.protocol.credentials = self.credentials  # closes pooled sessions with the old token
        return True

    def close(self) -> None:
        """Release the account's pooled connections."""
        if not self.closed:
            self.closed = True
            self.account.protocol.close()


def _version(settings: ExchangeSettings) -> Version | None:
    if settings.server_version is None:
        return None
    return Version(build=BUILDS[settings.server_version], api_version=settings.server_version)


def connect(settings: ExchangeSettings, tokens: TokenProvider, *, max_connections: int = 4) -> Connection:
    """Open an exchangelib account for ``settings`` (no request is sent when the version is pinned).

    :raises erp_exchange_plugin.errors.ExchangeError: the token could not be had.
    """
    transport.install()
    transport.trust_ca_for(settings.ews_url, settings.ca_file)
    properties.register()
    if settings.auth_mode is AuthMode.OAUTH_APP:
        credentials: Any = MsalCredentials(tokens, settings)
        auth_type, access_type = OAUTH2, IMPERSONATION
    else:
        assert settings.username is not None
        assert settings.password is not None
        credentials = Credentials(settings.username, settings.password.reveal())
        auth_type = NTLM if settings.auth_mode is AuthMode.NTLM else BASIC
        access_type = DELEGATE
    config = Configuration(
        service_endpoint=settings.ews_url,
        credentials=credentials,
        auth_type=auth_type,
        version=_version(settings),
        retry_policy=FailFast(),
        max_connections=max_connections,
    )
    try:
        account = Account(
            primary_smtp_address=settings.mailbox,
            config=config,
            autodiscover=False,
            access_type=access_type,
            default_timezone=UTC,
        )
    except Exception as exc:
        raise translate(exc, settings) from None
    return Connection(settings=settings, account=account, credentials=credentials)
