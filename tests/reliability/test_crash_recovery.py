"""A crash at every step of a sync run, followed by reruns, leaves no duplicate and no loss.

A real process runs the sync and is killed with SIGKILL while its k-th EWS request is in flight
(the emulator holds each request a little, and still applies it after the client died), for every
k of a run, and at random moments in between. Then the sync runs to the end, twice, and both sides
must hold exactly the expected contacts, once each.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from erp_exchange_plugin.item_types import contacts
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

ALICE = "alice@example.com"
ROOT = Path(__file__).resolve().parents[2]
ERP_RECORDS = 230  # three CreateItem chunks
OUTLOOK_ITEMS = 40


def seed(emu: Emulator, host_dir: Path) -> None:
    emu.reset()
    with StubHost(host_dir, load_entry_points=False) as host:
        host.add_user("anna", "Anna", ALICE)
        host.set_tenant_settings(SECTION, emulator_tenant_settings(emu))
        store = host.records("address", "anna")
        for i in range(ERP_RECORDS):
            store.put(None, {"display_name": f"ERP {i:03d}", "job_title": "from the ERP"}, None)
    for i in range(OUTLOOK_ITEMS):
        emu.create_item(ALICE, "contacts", {"DisplayName": f"Outlook {i:03d}"})


def ews_requests(emu: Emulator) -> int:
    return sum(emu.request_log.counts().values())


def worker(host_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.crash_worker", str(host_dir), "anna"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def kill_when(proc: subprocess.Popen[bytes], condition: object, timeout: float = 60.0) -> bool:
    """SIGKILL ``proc`` as soon as ``condition()`` holds; False when the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if condition():  # type: ignore[operator]
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    proc.kill()
    raise AssertionError("the worker neither finished nor reached the crash point")


def finish_and_check(emu: Emulator, host_dir: Path, gone: frozenset[str] = frozenset()) -> None:
    emu.set_latency(0)
    with StubHost(host_dir, load_entry_points=False) as host:
        settings = resolve_user(host, "anna").settings
        assert settings is not None
        service = SyncService(host, {"contacts": contacts.item_type()})
        try:
            service.sync_user(settings, ["contacts"])
            (quiet,) = service.sync_user(settings, ["contacts"])
            assert (quiet.to_exchange.created, quiet.to_erp.created) == (0, 0), quiet
        finally:
            service.close()
        page = host.records("address", "anna").changes_since(None, 10_000)
        erp = Counter(c.record.fields["display_name"] for c in page.changes if c.record is not None)
    exchange = Counter(v.fields.get("DisplayName") for v in emu.items(ALICE, "contacts"))
    for name in gone:
        # deleted in Outlook after the dead run: gone from both sides if the run had recorded its creation,
        # else created again (nothing recorded it); never on one side only
        assert (name in erp) == (name in exchange), (name, name in erp, name in exchange)
        erp.pop(name, None)
        exchange.pop(name, None)
    expected = Counter(
        n
        for n in [f"ERP {i:03d}" for i in range(ERP_RECORDS)]
        + [f"Outlook {i:03d}" for i in range(OUTLOOK_ITEMS)]
        if n not in gone
    )
    assert erp == expected, (erp - expected, expected - erp)
    assert exchange == expected, (exchange - expected, expected - exchange)


@pytest.fixture
def requests_in_a_clean_run(ews_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> int:
    host_dir = tmp_path_factory.mktemp("clean") / "erp"
    seed(ews_emulator, host_dir)
    ews_emulator.request_log.clear()
    assert worker(host_dir).wait(timeout=120) == 0
    return ews_requests(ews_emulator)


def test_a_kill_during_every_request_of_a_run_loses_and_doubles_nothing(
    ews_emulator: Emulator, requests_in_a_clean_run: int, tmp_path: Path
) -> None:
    emu = ews_emulator
    assert requests_in_a_clean_run >= 6
    for k in range(1, requests_in_a_clean_run + 1):
        host_dir = tmp_path / f"k{k}" / "erp"
        seed(emu, host_dir)
        emu.request_log.clear()
        emu.set_latency(150)
        proc = worker(host_dir)
        killed = kill_when(proc, lambda k=k: ews_requests(emu) >= k)
        assert killed, f"the run ended before request {k}"
        time.sleep(0.2)  # let the emulator apply the request the dead client sent
        # the user deletes in Outlook one contact the dead run had created: it must go from the ERP too,
        # even when no pull ever showed the dead run's creates (Exchange then reports no deletion)
        ours = [
            v for v in emu.items(ALICE, "contacts") if str(v.fields.get("DisplayName")).startswith("ERP ")
        ]
        gone = frozenset({str(ours[0].fields["DisplayName"])}) if ours else frozenset()
        if ours:
            emu.delete_item(ALICE, ours[0].item_id)
        finish_and_check(emu, host_dir, gone)
    emu.reset()


def test_kills_at_random_moments_lose_and_double_nothing(ews_emulator: Emulator, tmp_path: Path) -> None:
    emu = ews_emulator
    rng = random.Random(20261129)
    for attempt in range(4):
        host_dir = tmp_path / f"r{attempt}" / "erp"
        seed(emu, host_dir)
        emu.set_latency(20)
        proc = worker(host_dir)
        start = time.monotonic()
        delay = rng.uniform(0.5, 2.5)
        kill_when(proc, lambda s=start, d=delay: time.monotonic() - s >= d)
        finish_and_check(emu, host_dir)
    emu.reset()
