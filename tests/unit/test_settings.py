"""Settings resolution, table-driven (tests/unit/settings_cases.py), plus the rules around it."""

from __future__ import annotations

import dataclasses

import pytest

from erp_exchange_plugin.secret import MASK, Secret
from erp_exchange_plugin.settings import SETTINGS, AuthMode, resolve
from erp_exchange_plugin.settings.catalogue import USER_SETTABLE
from erp_hookspecs import Origin

from .settings_cases import INVALID, TENANT, TENANT_SECRET, USER_SECRET, VALID, Case


def test_the_table_is_large_enough() -> None:
    assert len(VALID) + len(INVALID) >= 30
    assert len({c.id for c in VALID + INVALID}) == len(VALID) + len(INVALID)


@pytest.mark.parametrize("case", VALID, ids=lambda c: c.id)
def test_valid_settings_resolve(case: Case) -> None:
    res = resolve("anna", case.user, case.tenant, host_email=case.email, proposed=True)
    assert res.errors == ()
    assert res.settings is not None
    for name, value in case.expect.items():
        assert res.effective[name] == value, name
    for name, origin in case.origins.items():
        assert res.origins[name] == Origin(origin), name
    assert set(res.effective) == {s.name for s in SETTINGS} == set(res.origins)


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c.id)
def test_invalid_settings_name_the_field(case: Case) -> None:
    assert case.error is not None
    res = resolve("anna", case.user, case.tenant, host_email=case.email, proposed=True)
    assert res.settings is None
    named = {(e.field, e.level) for e in res.errors}
    assert case.error in named, res.errors
    for error in res.errors:
        assert (error.message and error.message[0].islower()) or error.message[0] == "'", error
        for secret in (TENANT_SECRET, USER_SECRET):
            assert secret not in error.message


def test_every_error_message_hides_secret_values() -> None:
    secret = "sUp3r-s3cret-that-is-badly-padded "
    res = resolve("anna", {"tenant_id": "x", "client_id": "y", "client_secret": secret}, {}, proposed=True)
    assert res.errors
    assert secret.strip() not in repr(res.errors) + repr(res.effective) + repr(res.to_result())


def test_secrets_are_masked_in_effective_values_and_reprs() -> None:
    res = resolve("anna", {}, TENANT, host_email="anna@contoso.com")
    assert res.effective["client_secret"] == MASK
    assert res.settings is not None
    assert res.settings.client_secret == Secret(TENANT_SECRET)
    assert res.settings.client_secret.reveal() == TENANT_SECRET
    for text in (repr(res), repr(res.settings), str(res.to_result()), f"{res.settings.client_secret}"):
        assert TENANT_SECRET not in text


def test_stored_value_of_a_since_locked_field_is_ignored_with_a_warning() -> None:
    tenant = {**TENANT, "locked_fields": ["ews_url"]}
    user = {"ews_url": "https://mail.fabrikam.com/EWS/Exchange.asmx"}
    loaded = resolve("anna", user, tenant, host_email="anna@contoso.com", proposed=False)
    assert loaded.errors == ()
    assert loaded.effective["ews_url"] == "https://outlook.office365.com/EWS/Exchange.asmx"
    assert loaded.origins["ews_url"] is Origin.DEFAULT
    assert any("ews_url" in w for w in loaded.warnings)
    saved = resolve("anna", user, tenant, host_email="anna@contoso.com", proposed=True)
    assert ("ews_url", "user") in {(e.field, e.level) for e in saved.errors}


def test_editable_fields_exclude_locks_and_admin_only_fields() -> None:
    res = resolve(
        "anna", {}, {**TENANT, "locked_fields": ["client_id", "ews_url"]}, host_email="a@contoso.com"
    )
    assert "ews_url" not in res.editable
    assert {"tenant_id", "client_id", "client_secret"}.isdisjoint(res.editable)
    assert "mailbox" in res.editable
    assert "locked_fields" not in res.editable
    assert res.editable == USER_SETTABLE - {"ews_url", "tenant_id", "client_id", "client_secret"}


def test_user_triple_wins_as_a_whole() -> None:
    user = {
        "tenant_id": "fabrikam.com",
        "client_id": "11111111-2222-3333-4444-555555555555",
        "client_secret": USER_SECRET,
    }
    res = resolve("anna", user, TENANT, host_email="anna@contoso.com")
    assert res.settings is not None
    assert res.settings.client_secret == Secret(USER_SECRET)
    assert res.settings.authority == "https://login.microsoftonline.com/fabrikam.com"


def test_resolved_settings_are_frozen_and_typed() -> None:
    res = resolve("anna", {"sync_interval_minutes": 10}, TENANT, host_email="anna@contoso.com")
    settings = res.settings
    assert settings is not None
    assert settings.auth_mode is AuthMode.OAUTH_APP
    assert settings.sync_interval.total_seconds() == 600
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.mailbox = "x@y.com"  # type: ignore[misc]


def test_secret_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(Secret("abcdefgh"))


def test_item_type_options_fall_back_one_by_one() -> None:
    res = resolve(
        "anna",
        {"item_types": {"calendar": {"direction": "erp_to_exchange"}}},
        {**TENANT, "item_types": {"calendar": {"conflict_policy": "erp_wins", "window_past_days": 3}}},
        host_email="anna@contoso.com",
    )
    assert res.settings is not None
    calendar = res.settings.item_type("calendar")
    assert calendar.direction.value == "erp_to_exchange"
    assert calendar.conflict_policy.value == "erp_wins"
    assert calendar.window_past_days == 3
    contacts = res.settings.item_type("contacts")
    assert (contacts.enabled, contacts.direction.value, contacts.conflict_policy.value) == (
        True,
        "both",
        "newest_wins",
    )
    hash(res.settings)  # exchangelib hashes credentials that hold the settings
