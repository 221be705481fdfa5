"""Servers that lie: an unknown CA is refused, hostile XML (external entities, entity bombs, a huge
response) is rejected without harm, through the whole timer tick.

exchangelib parses every response with lxml (``resolve_entities=False``, ``huge_tree=True``): these
tests prove against a real HTTPS server that no entity is resolved (no file read, no network
fetch), that an expansion bomb costs nothing, and that our transport cuts a huge response off.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from erp_exchange_plugin.ews import transport
from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.state import StateStore
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.state.health import SYNC, Health
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.dovecot import make_ca_and_server_cert
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings
from tests.security.hostile_server import HostileServer

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
MARKER = "FILE-CONTENT-7f3e2a"
ENVELOPE = (
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    '<m:Bogus xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">{}</m:Bogus>'
    "</s:Body></s:Envelope>"
)


class PingListener:
    """Counts TCP connections: an external entity fetched over HTTP would connect here."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[HostileServer]:
    server = HostileServer(tmp_path / "hostile")
    yield server
    server.close()


def new_host(
    directory: Path, user_settings: dict[str, Any], tenant: dict[str, Any] | None = None
) -> StubHost:
    host = StubHost(directory, load_entry_points=["exchange"])
    host.set_tenant_settings(SECTION, tenant or {})
    host.add_user("anna", "Anna", "alice@example.com")
    host.set_user_settings("anna", SECTION, user_settings)
    plugin(host).service(host).sleep = lambda _s: None
    return host


def plugin(host: StubHost) -> ExchangePlugin:
    found = dict(host.plugin_manager.list_name_plugin())["exchange"]
    assert isinstance(found, ExchangePlugin)
    return found


def tick_and_status(host: StubHost) -> tuple[Any, Health]:
    (report,) = [r for r in host.timer_tick(now=NOW, budget_seconds=60) if r.plugin == "exchange"]
    store = StateStore(host.state_location("exchange").database_url)
    try:
        return report, rows.get(store.db, "anna", SYNC)
    finally:
        store.close()


def basic_settings(server: HostileServer) -> dict[str, Any]:
    return {
        "auth_mode": "basic",
        "username": "anna@example.com",
        "password": "pw-not-used-anywhere",
        "ews_url": server.url,
        "ca_file": str(server.ca_file),
        "server_version": "Exchange2016",
    }


def test_a_certificate_from_an_unknown_ca_is_refused_and_disables_the_user(
    tmp_path: Path, ews_emulator_clean: Emulator
) -> None:
    (tmp_path / "other-ca").mkdir()
    other_ca, _, _ = make_ca_and_server_cert(tmp_path / "other-ca")
    tenant = emulator_tenant_settings(ews_emulator_clean, ca_file=str(other_ca))
    with new_host(tmp_path / "erp", {}, tenant) as host:
        report, seen = tick_and_status(host)
        plugin(host).close()
    assert seen.state.value == "disabled"
    assert seen.last_error_code == "net.tls_untrusted"
    assert report.runs[0]["permanent"]
    assert ews_emulator_clean.request_log.count("GetFolder") == 0  # nothing was sent over the untrusted link


def test_external_entities_are_never_resolved(tmp_path: Path, hostile: HostileServer) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(MARKER)
    ping = PingListener()
    hostile.body = (
        '<?xml version="1.0"?>\n<!DOCTYPE s:Envelope [\n'
        f'<!ENTITY xxe SYSTEM "file://{secret_file}">\n'
        f'<!ENTITY ping SYSTEM "http://127.0.0.1:{ping.port}/xxe">\n'
        "]>\n" + ENVELOPE.format("[&xxe;][&ping;]")
    ).encode()
    with new_host(tmp_path / "erp", basic_settings(hostile)) as host:
        report, seen = tick_and_status(host)
        plugin(host).close()
        records = host.records("address", "anna").changes_since(None, 100).changes
    assert hostile.operations  # the client did talk to the hostile server
    assert seen.state.value == "backing_off"
    assert seen.last_error_code == "ews.server_error"
    assert "[&xxe;][&ping;]" in str(seen.last_error_message)  # parsed, and the entities left unresolved
    assert MARKER not in repr(report)
    assert MARKER not in repr(seen)
    assert records == ()
    assert ping.hits == 0
    assert hostile.gets == []
    ping.sock.close()


def test_an_entity_expansion_bomb_costs_nothing(tmp_path: Path, hostile: HostileServer) -> None:
    entities = ['<!ENTITY lol0 "lollollollollollollollollollol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    hostile.body = (
        '<?xml version="1.0"?>\n<!DOCTYPE s:Envelope [\n'
        + "\n".join(entities)
        + "\n]>\n"
        + ENVELOPE.format("&lol9;" * 10)
    ).encode()
    with new_host(tmp_path / "erp", basic_settings(hostile)) as host:
        started = time.monotonic()
        report, seen = tick_and_status(host)
        elapsed = time.monotonic() - started
        plugin(host).close()
    assert elapsed < 20  # three attempts; an expanded bomb would be 3 * 10^10 characters
    assert seen.state.value == "backing_off"
    assert seen.last_error_code == "ews.server_error"
    assert len(report.runs[0]["error"]) <= 500


def test_a_huge_response_is_cut_off(
    tmp_path: Path, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "MAX_RESPONSE_BYTES", 4 * 1024 * 1024)
    hostile.body = ('<?xml version="1.0"?>\n' + ENVELOPE.format("A" * (12 * 1024 * 1024))).encode()
    with new_host(tmp_path / "erp", basic_settings(hostile)) as host:
        report, seen = tick_and_status(host)
        plugin(host).close()
    assert seen.state.value == "backing_off"
    assert seen.last_error_code in {"ews.server_error", "net.unreachable"}
    assert "bytes" in str(seen.last_error_message)
    assert len(report.runs[0]["error"]) <= 500
