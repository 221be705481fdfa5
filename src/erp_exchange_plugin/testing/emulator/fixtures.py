"""pytest fixtures for the EWS emulator (imported by the package's pytest11 plugin and by conftest files).

* ``ews_emulator`` (session): a started :class:`~.server.Emulator` with three mailboxes
  (alice/bob/carol ``@example.com``, Basic passwords ``{name}-password``) in validating mode; exchangelib is
  set to trust its CA. At the end of the session it fails loudly if any response was not schema-valid.
* ``ews_emulator_clean`` (function): the same emulator, reset before the test (empty mailboxes, no faults,
  empty request log, real time) and checked for invalid responses after it; exchangelib's connection cache
  is closed.
* ``ews_msal_app`` (function): an msal ConfidentialClientApplication for the emulator's app registration.
* ``ews_account`` (function): a factory ``ews_account(address="alice@example.com", **connect_kwargs)`` for
  exchangelib Accounts that impersonate a mailbox with tokens from ``ews_msal_app``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import exchangelib
import pytest

from .client import MsalCredentials, connect, msal_app, trust_ca_in_exchangelib
from .server import Emulator

TEST_MAILBOXES = (
    ("alice@example.com", "alice-password"),
    ("bob@example.com", "bob-password"),
    ("carol@example.com", "carol-password"),
)


@pytest.fixture(scope="session")
def ews_emulator() -> Iterator[Emulator]:
    """A started EWS emulator + local Entra ID for the whole session (schema validation on)."""
    emulator = Emulator(TEST_MAILBOXES, validate=True, validate_requests=True)
    emulator.start()
    trust_ca_in_exchangelib(emulator.ca_file, emulator.base_url)
    try:
        yield emulator
    finally:
        exchangelib.close_connections()
        errors = emulator.validation_errors
        emulator.stop()
        if errors:
            pytest.fail(
                "EWS emulator produced schema-invalid responses:\n" + "\n".join(errors), pytrace=False
            )


@pytest.fixture
def ews_emulator_clean(ews_emulator: Emulator) -> Iterator[Emulator]:
    """The session emulator, reset for this test; fails the test on any schema-invalid response."""
    ews_emulator.reset()
    exchangelib.close_connections()
    yield ews_emulator
    exchangelib.close_connections()
    errors = ews_emulator.validation_errors
    if errors:
        ews_emulator.ews.validation_errors.clear()
        pytest.fail("EWS emulator produced schema-invalid responses:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def ews_msal_app(ews_emulator: Emulator) -> Any:
    """An msal confidential client for the emulator's app (fresh per test, so its token cache is too)."""
    emu = ews_emulator
    return msal_app(emu.authority, emu.client_id, emu.client_secret, emu.ca_file)


@pytest.fixture
def ews_account(ews_emulator: Emulator, ews_msal_app: Any) -> Callable[..., Any]:
    """Factory for exchangelib Accounts impersonating a mailbox of the emulator (app-only OAuth)."""
    credentials = MsalCredentials(ews_msal_app)

    def make(address: str = TEST_MAILBOXES[0][0], **kwargs: Any) -> Any:
        return connect(address, ews_emulator.ews_url, credentials, **kwargs)

    return make
