"""on_user_settings_load end to end: the stub host loads the plugin through its entry point."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.testing import StubHost
from erp_hookspecs import Origin

from ..unit.settings_cases import INVALID, TENANT_SECRET, USER_SECRET, VALID, Case

PREVIOUS = {"mailbox": "anna.previous@contoso.com"}


@pytest.fixture
def erp(tmp_path: Path) -> Iterator[StubHost]:
    with StubHost(tmp_path / "erp") as host:
        yield host


def _prepare(host: StubHost, case: Case) -> None:
    host.add_user("anna", "Anna Müller", case.email)
    host.set_tenant_settings(SECTION, case.tenant)
    host.set_user_settings("anna", SECTION, PREVIOUS)


def test_hook_on_user_settings_load_plugin_comes_from_its_entry_point(erp: StubHost) -> None:
    plugins = dict(erp.plugin_manager.list_name_plugin())
    assert isinstance(plugins["exchange"], ExchangePlugin)


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c.id)
def test_hook_on_user_settings_load_invalid_input_is_named_and_not_stored(erp: StubHost, case: Case) -> None:
    _prepare(erp, case)
    results = erp.save_user_settings("anna", SECTION, case.user)
    (mine,) = [r for r in results if r.section == SECTION]
    assert not mine.ok
    assert case.error in {(e.field, e.level) for e in mine.errors}
    assert erp.settings.user_section("anna", SECTION) == PREVIOUS


@pytest.mark.parametrize("case", VALID, ids=lambda c: c.id)
def test_hook_on_user_settings_load_valid_input_is_stored(erp: StubHost, case: Case) -> None:
    _prepare(erp, case)
    (mine,) = [r for r in erp.save_user_settings("anna", SECTION, case.user) if r.section == SECTION]
    assert mine.ok, mine.errors
    assert erp.settings.user_section("anna", SECTION) == case.user
    (loaded,) = erp.user_settings_load("anna")
    assert loaded.effective == mine.effective
    assert loaded.origins == mine.origins


def test_hook_on_user_settings_load_inherit_override_and_editable(erp: StubHost) -> None:
    erp.add_user("anna", "Anna", "anna@contoso.com")
    erp.add_user("ben", "Ben", "ben@contoso.com")
    erp.set_tenant_settings(
        SECTION,
        {
            "tenant_id": "contoso.com",
            "client_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "client_secret": TENANT_SECRET,
            "locked_fields": ["ews_url"],
        },
    )
    erp.set_user_settings(
        "ben",
        SECTION,
        {
            "tenant_id": "fabrikam.com",
            "client_id": "11111111-2222-3333-4444-555555555555",
            "client_secret": USER_SECRET,
        },
    )
    anna, ben = erp.user_settings_load("anna")[0], erp.user_settings_load("ben")[0]
    assert anna.ok
    assert ben.ok
    assert anna.origins["client_secret"] is Origin.TENANT
    assert anna.origins["mailbox"] is Origin.HOST
    assert ben.origins["client_secret"] is Origin.USER
    assert ben.effective["tenant_id"] == "fabrikam.com"
    assert "ews_url" not in anna.editable
    assert "mailbox" in anna.editable
    for result in (anna, ben):
        assert result.effective["client_secret"] == "********"


def test_hook_on_user_settings_load_unknown_user_is_an_error_not_a_traceback(erp: StubHost) -> None:
    (result,) = erp.user_settings_load("nobody")
    assert not result.ok
    assert result.errors[0].field == "(user)"


def test_hook_on_user_settings_load_secrets_never_reach_the_hook_log_or_results(erp: StubHost) -> None:
    case = VALID[1]  # the user's own triple
    _prepare(erp, case)
    erp.save_user_settings("anna", SECTION, case.user)
    erp.user_settings_load("anna")
    recorded = repr(erp.hook_calls())
    assert USER_SECRET not in recorded
    assert TENANT_SECRET not in recorded
