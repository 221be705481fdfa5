"""The EWS mail line of the mail fault matrix: emulator faults met by ``on_mail_fetch`` for an ``ews`` mailbox.

Same shape as the IMAP/POP3 matrix: the fetch that meets the fault leaves the mailbox's status saying
what happened (still ``ok`` when our retries absorbed it, else the error's code with one failure);
then the fault is gone, time passes, and the next fetches deliver every message exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.state import StateStore
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.state.health import Health, mail_scope
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings
from erp_hookspecs import Mailbox
from tests.mail.conftest import message

ALICE = "alice@example.com"
T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
MESSAGES = 5
BOX = Mailbox("anna-ews", "anna", "ews", {})


@dataclass(frozen=True)
class EwsMailFault:
    name: str
    cause: Callable[[Emulator], Any]
    state: str
    code: str | None = None


# EWS mail retries wait in real time (its own retry policy), so the faults here are short: a storm
# would cost the policy's whole two minutes, an HTTP 5xx its 10 s default back-off. Sync's matrix
# covers both in virtual time.
EWS_MAIL_FAULTS = [
    EwsMailFault("throttled_twice", lambda e: e.inject("server_busy", count=2, back_off_ms=50), "ok"),
    EwsMailFault(
        "drop_before_read",
        lambda e: e.inject("drop_before", operation="GetItem"),
        "backing_off",
        "net.unreachable",
    ),
    EwsMailFault(
        "truncated_sync_page", lambda e: e.inject("truncated_xml", operation="SyncFolderItems"), "ok"
    ),
    EwsMailFault("malformed_xml", lambda e: e.inject("malformed_xml", operation="GetItem"), "ok"),
    EwsMailFault("401_mid_run", lambda e: e.revoke_tokens(), "ok"),
    EwsMailFault("invalid_sync_state", lambda e: e.invalidate_sync_state(ALICE, "inbox"), "ok"),
]


@pytest.fixture
def host(tmp_path: Path, ews_emulator_clean: Emulator) -> Iterator[StubHost]:
    plugin = ExchangePlugin()
    with StubHost(tmp_path / "erp", plugins=[plugin], load_entry_points=False) as erp:
        erp.add_user("anna", "Anna", ALICE)
        erp.set_tenant_settings(SECTION, emulator_tenant_settings(ews_emulator_clean))
        plugin.service(erp).sleep = lambda _s: None
        plugin.clock = lambda: T0
        yield erp
    plugin.close()


def status(host: StubHost) -> Health:
    store = StateStore(host.state_location("exchange").database_url)
    try:
        return rows.get(store.db, "anna", mail_scope(BOX.mailbox_id))
    finally:
        store.close()


@pytest.mark.parametrize("fault", EWS_MAIL_FAULTS, ids=lambda f: f.name)
def test_ews_mail_fault_loses_nothing_doubles_nothing_and_status_tells(
    host: StubHost, ews_emulator_clean: Emulator, fault: EwsMailFault
) -> None:
    emu = ews_emulator_clean
    plugin = next(p for p in host.plugin_manager.get_plugins() if isinstance(p, ExchangePlugin))
    emu.deliver(ALICE, message(0))
    first = host.mail_fetch(BOX)  # a sync state to invalidate, a token to revoke
    assert first is not None
    assert first.delivered == 1
    for n in range(1, MESSAGES):
        emu.deliver(ALICE, message(n))
    fault.cause(emu)
    met = host.mail_fetch(BOX)
    assert met is not None
    seen = status(host)
    assert seen.state.value == fault.state, seen
    assert seen.last_error_code == fault.code
    assert bool(met.errors) == (fault.code is not None)
    emu.faults.clear()
    plugin.clock = lambda: T0 + timedelta(days=1)
    for _ in range(2):
        again = host.mail_fetch(BOX)
        assert again is not None
        assert again.errors == ()
    after = status(host)
    assert (after.state.value, after.failures) == ("ok", 0)
    stored = Counter(m.raw for m in host.received_mail(mailbox_id=BOX.mailbox_id))
    assert stored == Counter(message(n) for n in range(MESSAGES))
