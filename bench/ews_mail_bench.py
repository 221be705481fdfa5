"""EWS mail fetch benchmark: the plugin's ``ews`` provider against a bare exchangelib fetch of the same MIME.

One emulator (in this process, 20 ms injected latency per request by default) gets N messages in the
inbox of one mailbox (70 % about 4 KB, 25 % about 40 KB, 5 % about 400 KB: the mix of
``notes/performance.md``, scaled down). Side by side in one run, rounds interleaved, medians reported:

- ``plugin ews``: ``on_mail_fetch`` through a fresh stub host (its mail sink commits every message) with
  checkpoints in a fresh state database;
- ``bare exchangelib``: ``inbox.all().only("mime_content")`` iterated, each message written to a file
  (no sync state, no delivery bookkeeping: the floor of what exchangelib alone does).

Reported: EWS requests (from the emulator's request log), requests per 100 messages, wall seconds, and
the ratio to the bare fetch. Every run is verified by count and by the SHA-256 of every message.

    uv run python bench/ews_mail_bench.py                 # 500 messages, 3 rounds, 20 ms
    uv run python bench/ews_mail_bench.py --messages 200 --rounds 1 --latency-ms 0
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings
from erp_hookspecs import Mailbox

ALICE = "alice@example.com"
RESULTS = Path(__file__).parent / "results" / "ews_mail_bench.json"


def make_message(n: int, rng: random.Random) -> bytes:
    roll = rng.random()
    size = 4_000 if roll < 0.70 else 40_000 if roll < 0.95 else 400_000
    head = f"From: sender@example.com\r\nTo: {ALICE}\r\nSubject: message {n}\r\nMessage-ID: <bench-{n}@example.com>\r\n"
    line = (f"line of message {n} " + "x" * 60 + "\r\n").encode()
    return head.encode() + b"\r\n" + line * max(1, size // len(line))


def requests(emu: Emulator) -> int:
    return sum(emu.request_log.counts().values())


def run_plugin(emu: Emulator, digests: set[str]) -> dict[str, Any]:
    plugin = ExchangePlugin()
    with (
        tempfile.TemporaryDirectory() as tmp,
        StubHost(Path(tmp) / "erp", plugins=[plugin], load_entry_points=False) as host,
    ):
        host.add_user("anna", "Anna", ALICE)
        host.set_tenant_settings(SECTION, emulator_tenant_settings(emu))
        plugin.service(host).connection(resolve_user(host, "anna").settings)  # type: ignore[arg-type]
        emu.request_log.clear()
        started = time.perf_counter()
        report = plugin.on_mail_fetch(host, Mailbox("bench", "anna", "ews", {}))
        wall = time.perf_counter() - started
        got = {hashlib.sha256(m.raw).hexdigest() for m in host.received_mail(mailbox_id="bench")}
        plugin.close()
    assert report is not None and report.errors == (), report
    assert got == digests, "the plugin did not deliver exactly the messages in the mailbox"
    return {"wall": wall, "requests": requests(emu)}


def run_bare(emu: Emulator, digests: set[str]) -> dict[str, Any]:
    from erp_exchange_plugin.auth.tokens import TokenProvider
    from erp_exchange_plugin.ews.account import connect
    from erp_exchange_plugin.settings import resolve

    settings = resolve("anna", {}, emulator_tenant_settings(emu), host_email=ALICE).settings
    assert settings is not None
    conn = connect(settings, TokenProvider())
    inbox = conn.account.inbox  # the folder lookup is not timed, as for the plugin
    emu.request_log.clear()
    got: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        for n, item in enumerate(inbox.all().only("mime_content")):
            path = Path(tmp) / f"{n}.eml"
            path.write_bytes(item.mime_content)
            got.add(hashlib.sha256(item.mime_content).hexdigest())
        wall = time.perf_counter() - started
    conn.close()
    assert got == digests, "the bare fetch did not read exactly the messages in the mailbox"
    return {"wall": wall, "requests": requests(emu)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    rng = random.Random(7)
    with Emulator(((ALICE, "alice-password"),), validate=False) as emu:
        raws = [make_message(n, rng) for n in range(args.messages)]
        for raw in raws:
            emu.deliver(ALICE, raw)
        digests = {hashlib.sha256(r).hexdigest() for r in raws}
        emu.set_latency(args.latency_ms)
        rows: dict[str, list[dict[str, Any]]] = {"plugin ews": [], "bare exchangelib": []}
        for _ in range(args.rounds):
            rows["bare exchangelib"].append(run_bare(emu, digests))
            rows["plugin ews"].append(run_plugin(emu, digests))
    bare_wall = statistics.median(r["wall"] for r in rows["bare exchangelib"])
    table = []
    for name, runs in rows.items():
        wall = statistics.median(r["wall"] for r in runs)
        reqs = statistics.median(r["requests"] for r in runs)
        table.append({
            "client": name, "messages": args.messages, "requests": reqs,
            "requests_per_100": round(100 * reqs / args.messages, 2), "wall_s": round(wall, 3),
            "msgs_per_s": round(args.messages / wall, 1), "x_bare": round(wall / bare_wall, 2),
        })  # fmt: skip
    print(
        f"\nEWS mail fetch, {args.messages} messages, {args.latency_ms:g} ms latency, median of {args.rounds}\n"
    )
    print("| client | requests | per 100 msgs | wall s | msgs/s | x bare |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in table:
        print(
            f"| {r['client']} | {r['requests']} | {r['requests_per_100']} | {r['wall_s']} | {r['msgs_per_s']} | {r['x_bare']} |"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps({"latency_ms": args.latency_ms, "rounds": args.rounds, "rows": table}, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
