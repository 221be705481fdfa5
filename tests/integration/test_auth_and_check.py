"""Connect for real: msal tokens from the local Entra ID, exchangelib accounts, typed errors, `check`.

Every bad setting gives its typed error with a message an administrator can act on; the secret
never appears anywhere (the last test drives all of it with a canary secret and searches every byte).
"""

from __future__ import annotations

import io
import json
import logging
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
import structlog

from erp_exchange_plugin.auth.tokens import TokenProvider
from erp_exchange_plugin.check import run_check
from erp_exchange_plugin.cli import main
from erp_exchange_plugin.errors import (
    AuthenticationFailed,
    ExchangeError,
    HostUnreachable,
    ImpersonationDenied,
    MailboxNotFound,
    ThrottledTooLong,
    TlsUntrusted,
    UnknownApplication,
    UnknownTenant,
    WrongClientSecret,
)
from erp_exchange_plugin.ews.account import connect
from erp_exchange_plugin.ews.retry import RetryPolicy
from erp_exchange_plugin.settings import Resolution, resolve
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

from .conftest import ALICE

CANARY = "canary-S3cret-d4e1f0a9b8c7"


def resolution(emu: Emulator, user: dict[str, Any] | None = None, **tenant: Any) -> Resolution:
    res = resolve("anna", user or {}, emulator_tenant_settings(emu, **tenant), host_email=ALICE)
    assert res.settings is not None, res.errors
    return res


def failing_step(report: Any) -> Any:
    (step,) = [s for s in report.steps if not s.ok]
    return step


def test_check_reports_success_for_a_good_user(emu: Emulator) -> None:
    report = run_check(resolution(emu), TokenProvider())
    assert report.ok, report
    assert [s.name for s in report.steps] == [
        "settings",
        "token",
        "connect",
        "contacts",
        "calendar",
        "tasks",
        "inbox",
    ]


@pytest.mark.parametrize(
    ("tenant", "user", "error", "words"),
    [
        ({"client_secret": "wrong-secret-value-123"}, {}, WrongClientSecret, "client secret"),
        ({"tenant_id": str(uuid.uuid4())}, {}, UnknownTenant, "tenant"),
        ({"client_id": str(uuid.uuid4())}, {}, UnknownApplication, "not registered"),
        ({"authority_host": "https://127.0.0.1:1"}, {}, HostUnreachable, "cannot reach"),
        ({"ca_file": None}, {}, TlsUntrusted, "not trusted"),
        ({}, {"mailbox": "nobody@example.com"}, MailboxNotFound, "nobody@example.com"),
    ],
    ids=["wrong-secret", "unknown-tenant", "unknown-app", "unreachable", "untrusted-ca", "no-mailbox"],
)
def test_each_bad_setting_gives_its_typed_error(
    emu: Emulator, tenant: dict[str, Any], user: dict[str, Any], error: type[ExchangeError], words: str
) -> None:
    settings = dict(emulator_tenant_settings(emu, **tenant))
    if "ca_file" in tenant and tenant["ca_file"] is None:
        del settings["ca_file"]
    res = resolve("anna", user, {k: v for k, v in settings.items() if v is not None}, host_email=ALICE)
    report = run_check(res, TokenProvider())
    assert not report.ok
    step = failing_step(report)
    assert step.code == error.code
    assert words in step.detail
    assert step.hint


def test_impersonation_denied_names_app_and_mailbox(emu: Emulator) -> None:
    client_id, secret = str(uuid.uuid4()), "limited-app-secret-456789"
    emu.add_app(client_id, secret, mailboxes=["bob@example.com"])
    res = resolution(emu, {"tenant_id": emu.tenant_id, "client_id": client_id, "client_secret": secret})
    step = failing_step(run_check(res, TokenProvider()))
    assert step.code == ImpersonationDenied.code
    assert client_id in step.detail
    assert ALICE in step.detail


def test_an_app_without_the_ews_role_fails_clearly_after_one_new_token(emu: Emulator) -> None:
    client_id, secret = str(uuid.uuid4()), "no-role-app-secret-456789"
    emu.add_app(client_id, secret, roles=())
    res = resolution(emu, {"tenant_id": emu.tenant_id, "client_id": client_id, "client_secret": secret})
    tokens = TokenProvider()
    step = failing_step(run_check(res, tokens))
    assert step.code == AuthenticationFailed.code
    assert "HTTP 401" in step.detail
    assert tokens.requests_made == 2  # the first token, then exactly one renewal


def test_a_token_that_expires_mid_run_is_renewed(emu: Emulator) -> None:
    settings = resolution(emu).settings
    assert settings is not None
    tokens = TokenProvider()
    conn = connect(settings, tokens)
    policy = RetryPolicy()
    try:
        assert policy.call(conn, lambda: conn.account.contacts.total_count) == 0
        emu.clock.advance(2 * 3600)  # every token issued so far is now expired for the server
        assert policy.call(conn, lambda: conn.account.inbox.total_count) == 0
    finally:
        conn.close()
    assert tokens.requests_made == 2


def test_a_throttled_request_waits_at_least_the_servers_back_off(emu: Emulator) -> None:
    settings = resolution(emu).settings
    assert settings is not None
    conn = connect(settings, TokenProvider())
    slept: list[float] = []
    policy = RetryPolicy(sleep=slept.append)
    emu.inject("server_busy", operation="GetFolder", count=2, back_off_ms=1500)
    try:
        policy.call(conn, lambda: conn.account.contacts.total_count)
    finally:
        conn.close()
    assert slept == [1.5, 1.5]
    assert policy.waited == 3.0


def test_throttling_past_the_run_budget_is_a_typed_error(emu: Emulator) -> None:
    settings = resolution(emu).settings
    assert settings is not None
    conn = connect(settings, TokenProvider())
    emu.inject("server_busy", operation="GetFolder", back_off_ms=60_000)
    policy = RetryPolicy(max_total_wait=30.0, sleep=lambda s: None)
    try:
        with pytest.raises(ThrottledTooLong, match=r"wait 60\.0 s"):
            policy.call(conn, lambda: conn.account.contacts.total_count)
    finally:
        conn.close()


def test_the_token_cache_file_is_private(emu: Emulator, tmp_path: Path) -> None:
    cache = tmp_path / "state" / "token-cache.json"
    tokens = TokenProvider(cache)
    settings = resolution(emu).settings
    assert settings is not None
    tokens.acquire(settings)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert emu.client_secret not in cache.read_text()
    again = TokenProvider(cache)
    again.acquire(settings)
    assert again.requests_made == 1  # a new process proves the secret once (msal's cache ignores secrets)
    again.acquire(settings)
    assert again.requests_made == 1  # then the cache serves


def test_check_cli_from_a_stub_host_and_from_a_settings_file(emu: Emulator, tmp_path: Path) -> None:
    with StubHost(tmp_path / "erp", load_entry_points=False) as host:
        host.add_user("anna", "Anna", ALICE)
        host.set_tenant_settings("exchange", emulator_tenant_settings(emu))
    out = io.StringIO()
    assert main(["check", "--host-dir", str(tmp_path / "erp"), "--user", "anna"], out=out) == 0
    assert "Everything works." in out.getvalue()
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(
        json.dumps(
            {
                "user_id": "anna",
                "email": ALICE,
                "tenant": emulator_tenant_settings(emu, client_secret="nope-nope-1"),
            }
        )
    )
    out = io.StringIO()
    assert main(["check", "--settings", str(settings_file), "--json"], out=out) == 1
    report = json.loads(out.getvalue())
    assert report["ok"] is False
    assert report["steps"][-1]["code"] == "auth.wrong_client_secret"


def test_a_canary_secret_never_appears_in_any_output(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    emu.add_app(client_id := str(uuid.uuid4()), CANARY, mailboxes=[ALICE])
    user = {"tenant_id": emu.tenant_id, "client_id": client_id, "client_secret": CANARY}
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    cache = tmp_path / "cache.json"
    with structlog.testing.capture_logs() as logs:
        good = run_check(resolution(emu, user), TokenProvider(cache))
        bad_user = {**user, "client_secret": CANARY + "-wrong"}
        bad = run_check(resolution(emu, bad_user), TokenProvider())
        out = io.StringIO()
        settings_file = tmp_path / "s.json"
        settings_file.write_text(
            json.dumps({"email": ALICE, "user": user, "tenant": emulator_tenant_settings(emu)})
        )
        main(["-v", "check", "--settings", str(settings_file), "--json"], out=out)
        main(["-v", "check", "--settings", str(settings_file)], out=out)
        seen.append(out.getvalue())
    assert good.ok
    assert not bad.ok
    captured = capsys.readouterr()
    haystack = "\n".join(
        [
            *seen,
            captured.out,
            captured.err,
            caplog.text,
            repr(logs),
            repr(good),
            repr(bad),
            json.dumps(bad.as_dict()),
        ]
    )
    haystack += cache.read_text()
    assert CANARY not in haystack
    for step in bad.steps:
        assert CANARY not in (step.detail + str(step.hint))


def test_basic_auth_for_on_premises_mode(emu: Emulator) -> None:
    res = resolution(emu, {"auth_mode": "basic", "username": ALICE, "password": "alice-password"})
    report = run_check(res, TokenProvider())
    assert report.ok, report
    assert [s.name for s in report.steps] == ["settings", "connect", "contacts", "calendar", "tasks", "inbox"]
    wrong = resolution(emu, {"auth_mode": "basic", "username": ALICE, "password": "not-alice-password"})
    step = failing_step(run_check(wrong, TokenProvider()))
    assert step.code == AuthenticationFailed.code
