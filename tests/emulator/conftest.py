"""Fixtures for the emulator's own tests: the emulator, msal apps and exchangelib accounts built on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from exchangelib import (
    DELEGATE,
    CalendarItem,
    Contact,
    Credentials,
    ExtendedProperty,
    Message,
    Task,
)

from erp_exchange_plugin.testing.emulator.client import connect
from erp_exchange_plugin.testing.emulator.fixtures import (
    ews_account,
    ews_emulator,
    ews_emulator_clean,
    ews_msal_app,
)
from erp_exchange_plugin.testing.emulator.server import Emulator

__all__ = ["ews_account", "ews_emulator", "ews_emulator_clean", "ews_msal_app"]

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"


class ErpId(ExtendedProperty):
    """The connector's ERP id, as an extended property (notes/exchangelib.md 2d)."""

    property_set_id = "f3f4a2c0-1b2c-4d5e-8f90-123456789abc"
    property_name = "ErpId"
    property_type = "String"


class ErpVersion(ExtendedProperty):
    """An integer extended property, for typed restrictions."""

    property_set_id = "f3f4a2c0-1b2c-4d5e-8f90-123456789abc"
    property_name = "ErpVersion"
    property_type = "Integer"


ERP_ID_KEY = "f3f4a2c0-1b2c-4d5e-8f90-123456789abc:ErpId:String"

for _cls in (Contact, CalendarItem, Task, Message):
    _cls.register("erp_id", ErpId)
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
