"""A canary secret (and a canary mail password) driven through the whole unattended flow never leaks.

Settings (tenant secret, a user's wrong override), timer ticks (success, a wrong secret that gets the
user disabled with an alert), mail fetches (IMAP and POP3, good and wrong password), ``erp-exchange
check``, ``status`` (text and JSON) and ``enable``: every captured byte is searched: logs (structlog
and stdlib), stdout/stderr, CLI output, tick and fetch reports, alerts, recorded hook calls and their
exceptions, the plugin's state database (with its WAL) and the token cache, whose mode is 0600.
"""

from __future__ import annotations

import io
import json
import logging
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from erp_exchange_plugin.cli import main
from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.dovecot import Dovecot
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings
from erp_hookspecs import Mailbox
from tests.mail.conftest import PORTS, message

CANARY = "canary-Tick-9b1f0e2d7c"
MAIL_CANARY = "canary-Mail-4a6c8e0b2d"
NOW = datetime.now(UTC).replace(microsecond=0)


def test_canary_secrets_never_leave_through_the_unattended_flow(
    tmp_path: Path,
    ews_emulator_clean: Emulator,
    dovecot: Dovecot,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    emu = ews_emulator_clean
    client_id = str(uuid.uuid4())
    emu.add_app(client_id, CANARY, mailboxes=["alice@example.com", "bob@example.com"])
    mail_user = f"canary{uuid.uuid4().hex[:6]}"
    dovecot.add_user(mail_user, MAIL_CANARY)
    for n in range(3):
        dovecot.deliver(mail_user, message(n))
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []
    host_dir = tmp_path / "erp"

    def cli(*argv: str) -> None:
        out = io.StringIO()
        main(["-v", *argv], out=out)
        outputs.append(out.getvalue())

    with structlog.testing.capture_logs() as logs, StubHost(host_dir, load_entry_points=["exchange"]) as host:
        host.set_tenant_settings(
            SECTION, emulator_tenant_settings(emu, client_id=client_id, client_secret=CANARY)
        )
        host.add_user("anna", "Anna", "alice@example.com")
        host.add_user("ben", "Ben", "bob@example.com")
        host.set_user_settings(
            "ben",
            SECTION,
            {"tenant_id": emu.tenant_id, "client_id": client_id, "client_secret": CANARY + "-wrong"},
        )
        host.records("address", "anna").put(None, {"display_name": "Customer"}, None)
        loaded = host.user_settings_load("ben")
        outputs.append(repr(loaded))
        reports: list[object] = []
        reports += host.timer_tick(now=NOW - timedelta(minutes=30))
        reports += host.timer_tick(now=NOW - timedelta(minutes=20))
        server = dovecot
        for protocol in ("imap", "pop3"):
            settings = {
                "host": server.host,
                "port": getattr(server.ports, PORTS[(protocol, "tls")]),
                "security": "tls",
                "username": mail_user,
                "password": MAIL_CANARY,
                "ca_file": str(server.ca_file),
            }
            good = Mailbox(f"{protocol}-good", "anna", protocol, settings)
            bad = Mailbox(
                f"{protocol}-bad", "anna", protocol, {**settings, "password": MAIL_CANARY + "-wrong"}
            )
            reports += [host.mail_fetch(good), host.mail_fetch(bad), host.mail_fetch(bad)]
        cli("check", "--host-dir", str(host_dir), "--user", "anna")
        cli("check", "--host-dir", str(host_dir), "--user", "ben", "--json")
        cli("status", "--host-dir", str(host_dir))
        cli("status", "--host-dir", str(host_dir), "--json")
        cli("enable", "--host-dir", str(host_dir), "--user", "ben")
        reports += host.timer_tick(now=NOW)
        alerts = host.raised_alerts()
        calls = host.hook_calls()
        received = host.received_mail()
        plugin = dict(host.plugin_manager.list_name_plugin())["exchange"]
        assert isinstance(plugin, ExchangePlugin)
        plugin.close()

    # the flow did what it should: anna synced, ben disabled (then enabled and disabled again), mail fetched
    assert emu.items("alice@example.com", "contacts")
    assert {a.code for a in alerts} == {"exchange.sync.disabled", "exchange.mail.disabled"}, (
        outputs[0],
        reports[:2],
    )
    assert len(received) == 6  # three messages, through an IMAP and a POP3 mailbox of the host
    assert '"state": "disabled"' in outputs[4]

    state_dir = host_dir / "plugins" / "exchange"
    cache = state_dir / "token-cache.json"
    assert cache.exists()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    captured = capsys.readouterr()
    text = "\n".join(
        [
            *outputs,
            captured.out,
            captured.err,
            caplog.text,
            repr(logs),
            repr(reports),
            repr(alerts),
            json.dumps([c.__dict__ if hasattr(c, "__dict__") else repr(c) for c in calls], default=repr),
            repr(calls),
        ]
    )
    stored = b"".join(p.read_bytes() for p in sorted(state_dir.iterdir()) if p.is_file())
    for secret in (CANARY, MAIL_CANARY):
        assert secret not in text
        assert secret.encode() not in stored
        assert secret.encode("utf-16-le") not in stored


def test_a_wrong_secret_for_the_tenants_app_never_rides_on_its_cached_token(
    tmp_path: Path, ews_emulator_clean: Emulator
) -> None:
    """One user's settings never reach a mailbox through another's credentials: msal's token cache is
    keyed by app and tenant, not by secret, so a user naming the tenant's app with any secret would
    otherwise be served the token the tenant's secret fetched."""
    emu = ews_emulator_clean
    with StubHost(tmp_path / "erp", load_entry_points=["exchange"]) as host:
        host.set_tenant_settings(SECTION, emulator_tenant_settings(emu))
        host.add_user("anna", "Anna", "alice@example.com")
        host.add_user("mallory", "Mallory", "bob@example.com")
        host.set_user_settings(
            "mallory",
            SECTION,
            {"tenant_id": emu.tenant_id, "client_id": emu.client_id, "client_secret": "guessed"},
        )
        host.set_user_features("mallory", [])
        (first,) = [r for r in host.timer_tick(now=NOW) if r.plugin == "exchange"]
        assert "error" not in first.runs[0]  # anna's sync put the app's token into the cache
        host.set_user_features("mallory", [SECTION])
        (report,) = [r for r in host.timer_tick(now=NOW) if r.plugin == "exchange"]
        plugin = dict(host.plugin_manager.list_name_plugin())["exchange"]
        assert isinstance(plugin, ExchangePlugin)
        plugin.close()
    runs = {r["user_id"]: r for r in report.runs}
    assert runs["mallory"]["code"] == "auth.wrong_client_secret"
    assert runs["mallory"]["state"] == "disabled"
    assert not [e for e in emu.request_log.entries() if e.mailbox == "bob@example.com"]
