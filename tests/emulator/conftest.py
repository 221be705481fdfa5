"""Fixtures for the emulator's own tests: the emulator, msal apps and exchangelib accounts built on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from exchangelib import (
    DELEGATE,
    Contact,
    Credentials,
    ExtendedProperty,
)

from erp_exchange_plugin.ews.properties import PROPERTY_SET_ID, register
from erp_exchange_plugin.testing.emulator.client import connect
from erp_exchange_plugin.testing.emulator.fixtures import ews_account, ews_msal_app
from erp_exchange_plugin.testing.emulator.server import Emulator

__all__ = ["ews_account", "ews_msal_app"]  # the emulator fixtures come from the package's pytest plugin

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"


class ErpVersion(ExtendedProperty):
    """An integer extended property, for typed restrictions."""

    property_set_id = PROPERTY_SET_ID
    property_name = "ErpVersion"
    property_type = "Integer"


ERP_ID_KEY = f"{PROPERTY_SET_ID}:ErpId:String"

register()  # the connector's own erp_id / erp_installation properties (one registration per process)
Contact.register("erp_version", ErpVersion)


@pytest.fixture
def emu(ews_emulator_clean: Emulator) -> Emulator:
    """The reset session emulator."""
    return ews_emulator_clean


@pytest.fixture
def app(emu: Emulator, ews_msal_app: Any) -> Any:
    """An msal confidential client for the emulator's app registration (after the reset)."""
    return ews_msal_app


@pytest.fixture
def account(emu: Emulator, ews_account: Callable[..., Any]) -> Callable[..., Any]:
    """Factory: an app-only (impersonating) exchangelib Account for a mailbox (after the reset)."""
    return ews_account


@pytest.fixture
def basic_account(emu: Emulator) -> Callable[..., Any]:
    """Factory: a Basic-auth exchangelib Account (delegate access) as ``user`` on ``address``."""

    def make(
        address: str = ALICE, user: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        user = user or address
        password = password if password is not None else emu.password(user)
        return connect(address, emu.ews_url, Credentials(user, password), access_type=DELEGATE, **kwargs)

    return make
