"""EWS authentication through exchangelib: bearer tokens (tenant, expiry, revocation, roles), impersonation
rules, and Basic auth for the on-premises mode."""

from __future__ import annotations

from typing import Any

import pytest
from exchangelib import DELEGATE, Contact, Identity
from exchangelib.errors import (
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorInvalidExchangeImpersonationHeaderData,
    ErrorNonExistentMailbox,
    UnauthorizedError,
)

from erp_exchange_plugin.testing.emulator.client import MsalCredentials, connect, msal_app

from .conftest import ALICE, BOB, CAROL


def test_app_token_with_impersonation_reaches_each_mailbox(account: Any) -> None:
    for address in (ALICE, BOB):
        acc = account(address)
        Contact(folder=acc.contacts, display_name=f"of {address}").save()
    assert [c.display_name for c in account(BOB).contacts.all()] == [f"of {BOB}"]


def test_token_from_another_tenant_is_rejected_with_401(emu: Any) -> None:
    emu.add_app("foreign-app", "foreign-secret", tenant_id="99999999-9999-9999-9999-999999999999")
    foreign = msal_app(
        f"{emu.base_url}/99999999-9999-9999-9999-999999999999", "foreign-app", "foreign-secret", emu.ca_file
    )
    acc = connect(ALICE, emu.ews_url, MsalCredentials(foreign))
    with pytest.raises(UnauthorizedError):
        acc.contacts.all().count()
    assert [e.status for e in emu.request_log.entries() if e.operation == "GetFolder"] == [401]


def test_expired_token_is_rejected_with_401(emu: Any, account: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.clock.advance(3600 + 60)  # the server's clock passes the token's exp
    acc_again = account()  # same cached token (msal and exchangelib still believe it valid)
    with pytest.raises(UnauthorizedError):
        list(acc_again.contacts.all())


def test_revoked_tokens_are_rejected(emu: Any, account: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.revoke_tokens()
    with pytest.raises(UnauthorizedError):
        account().contacts.all().count()


def test_token_without_the_ews_role_is_rejected(emu: Any) -> None:
    emu.add_app("no-role-app", "s3cret", roles=("Mail.Read",))
    app = msal_app(emu.authority, "no-role-app", "s3cret", emu.ca_file)
    with pytest.raises(UnauthorizedError):
        connect(ALICE, emu.ews_url, MsalCredentials(app)).contacts.all().count()


def test_missing_impersonation_header_for_app_token(emu: Any, app: Any) -> None:
    acc = connect(ALICE, emu.ews_url, MsalCredentials(app), access_type=DELEGATE)
    with pytest.raises(ErrorInvalidExchangeImpersonationHeaderData, match="must be present"):
        acc.contacts.all().count()


def test_impersonating_an_unknown_mailbox(account: Any) -> None:
    with pytest.raises(ErrorNonExistentMailbox):
        account("nobody@example.com").contacts.all().count()


def test_app_without_the_right_to_a_mailbox(emu: Any) -> None:
    emu.add_app("alice-only", "pw-alice-only", mailboxes=[ALICE])
    app = msal_app(emu.authority, "alice-only", "pw-alice-only", emu.ca_file)
    credentials = MsalCredentials(app)
    assert connect(ALICE, emu.ews_url, credentials).contacts.all().count() == 0
    with pytest.raises(ErrorImpersonateUserDenied):
        connect(BOB, emu.ews_url, credentials).contacts.all().count()


def test_basic_auth_on_own_mailbox(basic_account: Any) -> None:
    acc = basic_account(CAROL)
    Contact(folder=acc.contacts, display_name="via basic").save()
    assert [c.display_name for c in acc.contacts.all()] == ["via basic"]


def test_basic_auth_wrong_password(basic_account: Any) -> None:
    with pytest.raises(UnauthorizedError):
        basic_account(CAROL, password="wrong").contacts.all().count()


def test_basic_user_opening_someone_elses_mailbox_is_denied(basic_account: Any) -> None:
    acc = basic_account(BOB, user=CAROL)
    with pytest.raises(ErrorAccessDenied):
        acc.contacts.all().count()


def test_basic_user_may_not_impersonate(emu: Any) -> None:
    from exchangelib import IMPERSONATION, Credentials

    acc = connect(BOB, emu.ews_url, Credentials(CAROL, emu.password(CAROL)), access_type=IMPERSONATION)
    with pytest.raises(ErrorImpersonateUserDenied):
        acc.contacts.all().count()


def test_identity_on_credentials_is_used_for_delegate_access(emu: Any, app: Any) -> None:
    acc = connect(
        ALICE,
        emu.ews_url,
        MsalCredentials(app, identity=Identity(primary_smtp_address=ALICE)),
        access_type=DELEGATE,
    )
    assert acc.contacts.all().count() == 0


def test_ca_is_trusted_even_with_system_ca_bundle_variables_set(
    emu: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override verify=; the helpers must not be fooled."""
    bundle = tmp_path / "system-bundle.pem"
    bundle.write_text("")  # a bundle without the emulator's CA
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(bundle))
    app = msal_app(emu.authority, emu.client_id, emu.client_secret, emu.ca_file)
    acc = connect(ALICE, emu.ews_url, MsalCredentials(app))
    assert acc.contacts.all().count() == 0


def test_basic_delegate_may_open_the_owners_mailbox(emu: Any, basic_account: Any) -> None:
    emu.create_item(BOB, "contacts", {"DisplayName": "Bob's contact"})
    emu.add_delegate(BOB, CAROL)
    acc = basic_account(BOB, user=CAROL)
    assert [c.display_name for c in acc.contacts.all()] == ["Bob's contact"]
