"""Prototypes of the fixes proposed in docs/performance.md, measured against the code as it is.

Nothing here changes ``src/``: each prototype is a monkeypatch applied inside a worker process
of this script, and the same workers of ``sync_bench.py`` measure and verify the runs. They
exist to show how much a proposed fix would buy before anyone writes it for real.

- ``echo``: the pull after the push (``_Run.run`` in ``sync/engine.py``) asks SyncFolderItems
  for ids and change keys only; a change whose (id, change key) equals the pair just written is
  our echo and is skipped; any other change is fetched with GetItem and handled as before.
  Compared with the plugin as it is and with a bare exchangelib ``bulk_create`` (initial sync of
  5,000 ERP addresses, rounds interleaved), with and without our two extended properties.
- ``folders``: ``ExchangeFolder.folder`` (``sync/exchange.py``) looks the folder up without
  exchangelib's ``threaded_cached_property``, whose lock is shared by every ``Account`` of the
  process. Compared with the plugin as it is on the tick benchmark (first sync of 200 users, a
  no-change tick, a tick after a restart).

- ``phases``: no fix, the diagnosis behind ``echo``: wall and CPU of each step of the plugin's
  initial sync (timers wrapped around the engine's steps, unprofiled).

Run::

    uv run python bench/sync_fix_prototypes.py phases --contacts 5000
    uv run python bench/sync_fix_prototypes.py echo --contacts 5000 --rounds 3
    uv run python bench/sync_fix_prototypes.py folders --users 200
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import sync_bench as sb  # bench/ is on sys.path: this file runs as a script


def patch_echo_ids_only() -> None:
    """The echo pull with ItemId + ChangeKey only; GetItem for what is not our echo."""
    from erp_exchange_plugin.sync import engine, exchange
    from erp_exchange_plugin.sync.exchange import Change

    mapped_fields = exchange.ExchangeFolder._additional_fields

    def additional_fields(self: Any) -> Any:
        return set() if getattr(self, "ids_only", False) else mapped_fields(self)

    push = engine._Run.push

    def push_then_ids_only(self: Any) -> None:
        push(self)
        self.job.folder.ids_only = True  # the only pull after the push is the echo pull

    pulled_change = engine._Run.pulled_change

    def pulled_change_ids_only(self: Any, batch: Any, change: Any, creates: Any, ex_updates: Any) -> None:
        folder = self.job.folder
        if not getattr(folder, "ids_only", False):
            pulled_change(self, batch, change, creates, ex_updates)
            return
        erp_id = self.by_ex.get(change.ex_id)
        pair = self.pairs.get(erp_id) if erp_id else None
        if pair is not None and pair.ex_change_key == change.change_key:
            return  # our own write, unchanged since
        (item,) = folder.account.fetch(
            [(change.ex_id, change.change_key)], only_fields=list(folder.mapping.fields)
        )
        pulled_change(self, batch, Change(change.kind, item.id, item.changekey, item), creates, ex_updates)

    exchange.ExchangeFolder._additional_fields = additional_fields  # type: ignore[method-assign]
    engine._Run.push = push_then_ids_only  # type: ignore[method-assign]
    engine._Run.pulled_change = pulled_change_ids_only  # type: ignore[method-assign]


def patch_folder_lookup_without_class_lock() -> None:
    """``ExchangeFolder.folder`` without exchangelib's class-wide ``threaded_cached_property`` lock."""
    from exchangelib.folders import Root

    from erp_exchange_plugin.sync import exchange

    def folder(self: Any) -> Any:
        if self._folder is None:
            cache: dict[str, Any] = self.conn.__dict__.setdefault("folders", {})
            name = self.mapping.folder

            def lookup() -> Any:
                account = self.account
                if "root" not in account.__dict__:  # a non-data descriptor: __dict__ wins afterwards
                    account.__dict__["root"] = Root.get_distinguished(account=account)
                return type(account).__dict__[name].func(account)  # the property's function, no lock

            if name not in cache:
                cache[name] = self.retry.call(self.conn, lookup)
            self._folder = cache[name]
        return self._folder

    exchange.ExchangeFolder.folder = property(folder)  # type: ignore[method-assign,assignment]


def time_engine_phases() -> list[dict[str, Any]]:
    """Wrap the engine's steps (``_Run.recover`` ... ``apply_deletes``) with wall and CPU timers."""
    import functools
    import time

    from erp_exchange_plugin.sync import engine

    phases: list[dict[str, Any]] = []

    def timed(name: str) -> None:
        step = getattr(engine._Run, name)

        @functools.wraps(step)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return step(self, *args, **kwargs)
            finally:
                phases.append(
                    {
                        "step": name
                        + (" (echo)" if name == "pull" and any(p["step"] == "push" for p in phases) else ""),
                        "wall": time.perf_counter() - wall,
                        "cpu": time.process_time() - cpu,
                    }
                )

        setattr(engine._Run, name, wrapper)

    for name in ("recover", "refuse_foreign", "pull", "push", "apply_deletes"):
        timed(name)
    return phases


def worker(mode: str, spec: dict[str, Any]) -> dict[str, Any]:
    if mode == "phases":
        phases = time_engine_phases()
        return {**sb.worker_plugin_initial(spec), "phases": phases}
    if mode == "echo-patched":
        patch_echo_ids_only()
    if mode == "folders-patched":
        patch_folder_lookup_without_class_lock()
    if mode.startswith("bulk_create"):
        return sb.worker_bulk_create({**spec, "stamped": mode == "bulk_create_stamped"})
    if mode.startswith("echo"):
        return sb.worker_plugin_initial(spec)
    return sb.worker_tick(spec)


def run(mode: str, spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", mode],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def echo(args: argparse.Namespace) -> dict[str, Any]:
    mailbox = "bench@example.com"
    modes = ["echo-stock", "echo-patched", "bulk_create", "bulk_create_stamped"]
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    with sb.emulator([mailbox], args.latency_ms) as emu:
        for r in range(args.rounds):
            for mode in modes[r % len(modes) :] + modes[: r % len(modes)]:
                emu.admin.call("POST", "/reset")
                emu.admin.call("PUT", "/latency", {"latency_ms": args.latency_ms})
                runs[mode].append(run(mode, {"emulator": emu.info, "mailbox": mailbox, "n": args.contacts}))
                print(f"  round {r + 1}: {mode} {runs[mode][-1]['wall']:.2f} s", flush=True)
    bulk = sb.median(runs["bulk_create"], "wall")
    print(f"\n### Echo pull with ids only: initial sync of {args.contacts:,} ({args.rounds} rounds)\n")
    print("| variant | EWS requests | wall s | client CPU s | emulator CPU s | wall / bulk_create |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode, label in (
        ("echo-stock", "plugin as it is"),
        ("echo-patched", "plugin, echo pull ids only"),
        ("bulk_create", "bare exchangelib bulk_create"),
        ("bulk_create_stamped", "bare bulk_create + our 2 extended properties"),
    ):
        x = runs[mode]
        wall = sb.median(x, "wall")
        print(
            f"| {label} | {x[0]['requests']} | {wall:.2f} | {sb.median(x, 'cpu'):.2f} "
            f"| {sb.median(x, 'emulator_cpu'):.2f} | {wall / bulk:.2f} |"
        )
    return runs


def folders(args: argparse.Namespace) -> dict[str, Any]:
    mailboxes = [f"user{i:03d}@example.com" for i in range(args.users)]
    out: dict[str, Any] = {}
    for mode in ("folders-patched", "folders-stock"):
        with sb.emulator(mailboxes, args.latency_ms) as emu:
            spec = {"emulator": emu.info, "mailboxes": mailboxes, "per_user": 3, "rounds": 1}
            out[mode] = run(mode, spec)
    print(f"\n### Folder lookup without the class-wide lock: {args.users} users\n")
    print("| tick | as it is: wall s | prototype: wall s | requests |")
    print("|---|---:|---:|---:|")
    for key in ("first", "after_restart"):
        stock, patched = out["folders-stock"][key], out["folders-patched"][key]
        print(f"| {stock['label']} | {stock['wall']:.2f} | {patched['wall']:.2f} | {stock['requests']} |")
    stock, patched = out["folders-stock"]["ticks"][0], out["folders-patched"]["ticks"][0]
    print(f"| {stock['label']} | {stock['wall']:.2f} | {patched['wall']:.2f} | {stock['requests']} |")
    return out


def phases(args: argparse.Namespace) -> dict[str, Any]:
    mailbox = "bench@example.com"
    with sb.emulator([mailbox], args.latency_ms) as emu:
        result = run("phases", {"emulator": emu.info, "mailbox": mailbox, "n": args.contacts})
    print(f"\n### The plugin's initial sync of {args.contacts:,}, step by step (one run, unprofiled)\n")
    print("| step | wall s | client CPU s |")
    print("|---|---:|---:|")
    for phase in result["phases"]:
        print(f"| {phase['step']} | {phase['wall']:.2f} | {phase['cpu']:.2f} |")
    print(f"| whole run | {result['wall']:.2f} | {result['cpu']:.2f} |")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("prototype", nargs="?", choices=["echo", "folders", "phases"])
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--json", type=Path, help="default: bench/results/sync_fix_<prototype>.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(sys.stdin.read()))))
        return
    if args.prototype is None:
        parser.error("choose a prototype: echo, folders or phases")
    result = {"echo": echo, "folders": folders, "phases": phases}[args.prototype](args)
    path = args.json or sb.RESULTS / f"sync_fix_{args.prototype}.json"
    path.write_text(json.dumps({"machine": sb.machine(), "runs": result}, indent=2, default=str) + "\n")
    print(f"\nWritten: {path}")


if __name__ == "__main__":
    main()
