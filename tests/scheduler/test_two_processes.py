"""Two host processes ticking on one state database: no mailbox is ever synced by both at once.

Each process records the wall-clock interval of every sync it runs; the intervals of one user from
the two processes must never overlap, every user must still be synced on (nearly) every host
minute, and both sides must end with each contact exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

ROOT = Path(__file__).resolve().parents[2]
TICKS = 150  # per process: 300 ticks in all
USERS = {"anna": "alice@example.com", "ben": "bob@example.com", "cleo": "cleo@example.com"}


def test_two_processes_never_sync_one_mailbox_at_once(tmp_path: Path, ews_emulator_clean: Emulator) -> None:
    emu = ews_emulator_clean
    emu.add_mailbox("cleo@example.com")
    emu.set_latency(2, 3)  # syncs take a few ms, so that the processes' runs interleave
    host_dir = tmp_path / "erp"
    with StubHost(host_dir, load_entry_points=False) as host:
        host.set_tenant_settings(SECTION, emulator_tenant_settings(emu))
        for user_id, mailbox in USERS.items():
            host.add_user(user_id, user_id.title(), mailbox)
            host.set_user_settings(user_id, SECTION, {"sync_interval_minutes": 1})
            for i in range(5):
                host.records("address", user_id).put(None, {"display_name": f"{user_id} {i}"}, None)
        for mailbox in USERS.values():
            emu.create_item(mailbox, "contacts", {"DisplayName": f"Outlook of {mailbox}"})
    log = tmp_path / "syncs.jsonl"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.scheduler.tick_worker", str(host_dir), str(TICKS), str(log)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all(o.strip().endswith("errors 0") for o in outputs), outputs

    runs: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        runs[entry["user"]].append((entry["start"], entry["end"], entry["pid"]))
    pids = {pid for spans in runs.values() for _, _, pid in spans}
    assert len(pids) == 2  # both processes did work
    for user_id, spans in runs.items():
        spans.sort()
        for (_, end, pid), (start, _, other) in pairwise(spans):
            assert end <= start, f"{user_id} synced by {pid} and {other} at once"
    # every user keeps being synced: a user is due every host minute, and a process that lags behind
    # the other in host time finds the users already synced for its minute, so about one sync per
    # minute of the leading process, from both processes together
    for user_id in USERS:
        assert len(runs[user_id]) >= TICKS // 2, (user_id, len(runs[user_id]))
        assert {pid for _, _, pid in runs[user_id]} == pids

    with StubHost(host_dir, load_entry_points=False) as host:
        for user_id, mailbox in USERS.items():
            names = Counter(str(v.fields["DisplayName"]) for v in emu.items(mailbox, "contacts"))
            assert names == Counter([f"{user_id} {i}" for i in range(5)] + [f"Outlook of {mailbox}"])
            page = host.records("address", user_id).changes_since(None, 1000)
            erp_names = Counter(c.record.fields["display_name"] for c in page.changes if c.record)
            assert erp_names == names
