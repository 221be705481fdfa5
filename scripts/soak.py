"""Soak: the stub host ticks N times against the emulator with injected faults and edits on both sides.

    uv run python scripts/soak.py [--ticks 200] [--users 4] [--fault-share 0.10] [--seed 1] [--json]

Every tick: random edits in the ERP and in Outlook (creations, updates, deletions), one fault kind
injected into a share of all EWS requests (throttling, HTTP 500/503, connections dropped before or
after a write, malformed or truncated XML), then one timer tick, host time five minutes later each
time. Retries wait in virtual time (the back-off is still recorded and honoured by the scheduler).
At the end the faults stop, every user is enabled again and synced until quiet, and both sides are
compared: items checked, duplicates, losses (an item created and never deleted that is missing on a
side), mismatches (on one side only), conflicts decided, mean and worst tick time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import exchangelib

from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.scheduler import health
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.state import StateStore
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.fixtures import trust_ca_in_exchangelib
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

KINDS = ("server_busy", "http_500", "http_503", "drop_before", "drop_after", "malformed_xml", "truncated_xml")
START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--fault-share", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--kinds", default=",".join(KINDS), help="fault kinds to draw from, comma-separated")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)  # noqa: S311 - reproducible soak, not crypto
    mailboxes = [f"user{n}@example.com" for n in range(args.users)]
    emu = Emulator(mailboxes, seed=args.seed)
    emu.start()
    trust_ca_in_exchangelib(emu.ca_file, emu.base_url)
    created: set[str] = set()
    deleted: set[str] = set()
    tick_seconds: list[float] = []
    conflicts = failed_runs = runs = 0
    serial = 0
    details: list[str] = []
    origin: dict[str, str] = {}
    final_errors: list[str] = []
    last_errors: list[str] = []
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            StubHost(Path(tmp) / "erp", load_entry_points=["exchange"]) as host,
        ):
            host.set_tenant_settings(SECTION, emulator_tenant_settings(emu, delete_guard_max_share=1.0))
            users = {f"u{n}": mailbox for n, mailbox in enumerate(mailboxes)}
            for user_id, mailbox in users.items():
                host.add_user(user_id, user_id, mailbox)
            plugin = dict(host.plugin_manager.list_name_plugin())["exchange"]
            assert isinstance(plugin, ExchangePlugin)
            plugin.service(host).sleep = lambda _s: None

            def name() -> str:
                nonlocal serial
                serial += 1
                return f"item {serial:05d}"

            def edit(user_id: str, mailbox: str) -> None:
                store = host.records("address", user_id)
                for _ in range(rng.randint(0, 2)):
                    n = name()
                    store.put(None, {"display_name": n}, None)
                    created.add(n)
                    origin[n] = "erp"
                for _ in range(rng.randint(0, 2)):
                    n = name()
                    emu.create_item(mailbox, "contacts", {"DisplayName": n})
                    created.add(n)
                    origin[n] = "exchange"
                records = [
                    c.record for c in store.changes_since(None, 100_000).changes if c.record is not None
                ]
                if records and rng.random() < 0.5:
                    r = rng.choice(records)
                    store.put(r.record_id, {**r.fields, "job_title": f"erp edit {serial}"}, r.version)
                if records and rng.random() < 0.15:
                    r = rng.choice(records)
                    store.delete(r.record_id, None)
                    deleted.add(str(r.fields["display_name"]))
                items = emu.items(mailbox, "contacts")
                if items and rng.random() < 0.5:
                    emu.update_item(
                        mailbox, rng.choice(items).item_id, {"JobTitle": f"outlook edit {serial}"}
                    )
                if items and rng.random() < 0.15:
                    item = rng.choice(items)
                    emu.delete_item(mailbox, item.item_id)
                    deleted.add(str(item.fields.get("DisplayName")))

            def tick(at: datetime) -> None:
                nonlocal conflicts, failed_runs, runs
                started = time.perf_counter()
                (report,) = [r for r in host.timer_tick(now=at, budget_seconds=60) if r.plugin == "exchange"]
                tick_seconds.append(time.perf_counter() - started)
                last_errors[:] = list(report.errors) + [e for r in report.runs for e in r.get("errors", ())]
                for run in report.runs:
                    runs += 1
                    failed_runs += "error" in run
                    conflicts += len(run.get("conflicts", ()))

            now = START
            for _ in range(args.ticks):
                for user_id, mailbox in users.items():
                    edit(user_id, mailbox)
                emu.inject(
                    rng.choice(args.kinds.split(",")), count=None, share=args.fault_share, back_off_ms=200
                )
                tick(now)
                emu.faults.clear()
                now += timedelta(minutes=5)

            store = StateStore(host.state_location("exchange").database_url)
            disabled = [h.user_id for h in store_health(store) if h.state.value == "disabled"]
            for user_id in users:
                health.enable(store.db, user_id)
            store.close()
            for _ in range(3):  # faults gone: everyone converges
                now += timedelta(days=1)
                tick(now)
                final_errors.extend(last_errors)

            checked = duplicates = losses = mismatches = 0
            for user_id, mailbox in users.items():
                page = host.records("address", user_id).changes_since(None, 100_000)
                erp = Counter(
                    str(c.record.fields["display_name"]) for c in page.changes if c.record is not None
                )
                ex = Counter(str(v.fields.get("DisplayName")) for v in emu.items(mailbox, "contacts"))
                names = set(erp) | set(ex)
                checked += len(names)
                duplicates += sum(n - 1 for n in erp.values() if n > 1) + sum(
                    n - 1 for n in ex.values() if n > 1
                )
                mismatches += len(set(erp) ^ set(ex))
                for n in sorted(set(erp) ^ set(ex)):
                    details.append(
                        f"{user_id}: {n!r} (created in {origin.get(n)}) only in {'the ERP' if n in erp else 'Exchange'}"
                        f"{' (deleted on a side)' if n in deleted else ''}"
                    )
                expected = {n for n in created if n.startswith("item ")} - deleted
                mine = {n for n in expected if n in erp or n in ex}
                losses += sum(1 for n in mine if not (n in erp and n in ex))
            owned = sum(len(emu.items(m, "contacts")) for m in mailboxes)
            lost_everywhere = len(created - deleted) - sum(
                1
                for n in created - deleted
                if any(
                    n in {str(v.fields.get("DisplayName")) for v in emu.items(m, "contacts")}
                    for m in mailboxes
                )
            )
            plugin.close()
    finally:
        exchangelib.close_connections()
        emu.stop()
    result: dict[str, Any] = {
        "ticks": args.ticks,
        "users": args.users,
        "fault_share": args.fault_share,
        "runs": runs,
        "failed_runs": failed_runs,
        "disabled_during_soak": disabled,
        "items_checked": checked,
        "exchange_items": owned,
        "duplicates": duplicates,
        "losses": losses + lost_everywhere,
        "mismatches": mismatches,
        "conflicts": conflicts,
        "tick_mean_ms": round(1000 * sum(tick_seconds) / len(tick_seconds), 1),
        "tick_worst_ms": round(1000 * max(tick_seconds), 1),
        "details": details,
        "final_errors": final_errors,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    return 0 if duplicates == losses == mismatches == lost_everywhere == 0 else 1


def store_health(store: StateStore) -> list[Any]:
    from erp_exchange_plugin.state import health as rows

    return rows.all_health(store.db)


if __name__ == "__main__":
    sys.exit(main())
