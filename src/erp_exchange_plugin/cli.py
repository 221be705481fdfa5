"""The ``erp-exchange`` command line.

    erp-exchange --version
    erp-exchange plugins [--json]     loaded extensions, their hooks, item types, mail providers,
                                      broken ones and why
    erp-exchange demo [--json]        the stub host loading the plugin and resolving users' settings
    erp-exchange check (--host-dir DIR --user ID | --settings FILE) [--json]
                                      "Test & Enable": token, connection, access to every folder
    erp-exchange status --host-dir DIR [--json]
                                      every user's scheduler state, last success and error, next due
                                      time, counts, and the host timer's last tick (warns when stale)
    erp-exchange enable --host-dir DIR --user ID [--mailbox ID]
                                      enable a disabled user's sync (and mail fetch) again
    erp-exchange emulator [...]       a local Exchange (EWS + Entra ID) for tests and the demo

The command line configures structlog for itself (console lines on stderr, or JSON with
``--log-json``); the library never does.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TextIO

from erp_exchange_plugin import __version__
from erp_exchange_plugin.log import configure_cli_logging
from erp_exchange_plugin.manager import ExtensionManager
from erp_exchange_plugin.settings import Resolution, resolve


def _host_registration() -> list[dict[str, Any]]:
    found = []
    for ep in entry_points(group="erp"):
        dist = ep.dist
        found.append(
            {
                "name": ep.name,
                "target": ep.value,
                "distribution": f"{dist.name} {dist.version}" if dist is not None else None,
            }
        )
    return found


def _plugins(args: argparse.Namespace, out: TextIO) -> int:
    manager = ExtensionManager()
    report: dict[str, Any] = {
        "version": __version__,
        "host_entry_points": _host_registration(),
        "extensions": manager.status_dicts(),
        "item_types": {n: t.description for n, t in sorted(manager.item_types.items())},
        "mail_providers": {n: p.description for n, p in sorted(manager.mail_providers.items())},
    }
    if args.json:
        json.dump(report, out, indent=2)
        out.write("\n")
        return 0
    out.write(f"erp-exchange-plugin {__version__}\n\nRegistered with hosts (entry-point group 'erp'):\n")
    for ep in report["host_entry_points"]:
        out.write(f"  {ep['name']} = {ep['target']}  [{ep['distribution']}]\n")
    out.write("\nExtensions (entry-point group 'erp_exchange' and built-ins):\n")
    if not report["extensions"]:
        out.write("  (none)\n")
    for ext in report["extensions"]:
        out.write(f"  {ext['name']}  {ext['state'].upper()}  ({ext['source']})\n")
        if ext["reason"]:
            reason = str(ext["reason"]).replace("\n", "\n           ")
            out.write(f"      why: {reason}\n")
        if ext["hooks"]:
            out.write(f"      hooks: {', '.join(ext['hooks'])}\n")
        if ext["item_types"]:
            out.write(f"      item types: {', '.join(ext['item_types'])}\n")
        if ext["mail_providers"]:
            out.write(f"      mail providers: {', '.join(ext['mail_providers'])}\n")
        for problem in ext["problems"]:
            out.write(f"      problem: {problem}\n")
    out.write(f"\nItem types: {', '.join(report['item_types']) or '(none yet)'}\n")
    out.write(f"Mail providers: {', '.join(report['mail_providers']) or '(none yet)'}\n")
    return 0


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from erp_exchange_plugin.demo import run_demo

    return run_demo(json_output=args.json, out=out)


def _load_resolution(args: argparse.Namespace) -> Resolution:
    if args.settings is not None:
        try:
            data = json.loads(Path(args.settings).read_text())
        except (OSError, ValueError) as exc:
            raise SystemExit(f"erp-exchange check: cannot read {args.settings}: {exc}") from None
        if not isinstance(data, dict):
            raise SystemExit(f"erp-exchange check: {args.settings} must hold a JSON object")
        return resolve(
            str(data.get("user_id", "user")),
            data.get("user", {}),
            data.get("tenant", {}),
            host_email=data.get("email"),
        )
    from erp_exchange_plugin.settings.host import resolve_user
    from erp_exchange_plugin.testing import StubHost

    with StubHost(Path(args.host_dir), load_entry_points=False) as host:
        if host.users.get(args.user) is None:
            raise SystemExit(f"erp-exchange check: the host in {args.host_dir} has no user {args.user!r}")
        return resolve_user(host, args.user)


def _stub_host_state(host_dir: str) -> Any:
    from erp_exchange_plugin.state import StateStore
    from erp_exchange_plugin.testing import StubHost

    host = StubHost(Path(host_dir), load_entry_points=False)
    return host, StateStore(host.state_location("exchange").database_url)


def _timer_warning(host_dir: str | None) -> str | None:
    if host_dir is None:
        return None
    from datetime import UTC, datetime

    from erp_exchange_plugin.scheduler.status import collect

    host, store = _stub_host_state(host_dir)
    try:
        warnings = collect(host, store.db, datetime.now(UTC)).warnings
    finally:
        store.close()
        host.close()
    return warnings[0] if warnings else None


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from erp_exchange_plugin.auth.tokens import TokenProvider
    from erp_exchange_plugin.check import print_report, run_check

    report = run_check(_load_resolution(args), TokenProvider())
    warning = _timer_warning(args.host_dir)
    if warning:
        report.warnings.append(warning)
    if args.json:
        json.dump(report.as_dict(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        print_report(report, out)
    return 0 if report.ok else 1


def _status(args: argparse.Namespace, out: TextIO) -> int:
    from datetime import UTC, datetime

    from erp_exchange_plugin.scheduler.status import collect, print_status

    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    host, store = _stub_host_state(args.host_dir)
    try:
        status = collect(host, store.db, now)
    finally:
        store.close()
        host.close()
    if args.json:
        json.dump(status.as_dict(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        print_status(status, out)
    return 0


def _enable(args: argparse.Namespace, out: TextIO) -> int:
    from erp_exchange_plugin.scheduler.health import enable
    from erp_exchange_plugin.state.health import mail_scope

    host, store = _stub_host_state(args.host_dir)
    try:
        if host.users.get(args.user) is None:
            raise SystemExit(f"erp-exchange enable: the host in {args.host_dir} has no user {args.user!r}")
        changed = enable(store.db, args.user, mail_scope(args.mailbox) if args.mailbox else None)
    finally:
        store.close()
        host.close()
    for health in changed:
        out.write(f"{args.user} {health.scope}: enabled, due now\n")
    if not changed:
        out.write(
            f"{args.user}: nothing to enable (no run recorded{' for that mailbox' if args.mailbox else ''})\n"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``erp-exchange``."""
    parser = argparse.ArgumentParser(prog="erp-exchange", description="The ERP's Exchange connector.")
    parser.add_argument("--version", action="version", version=f"erp-exchange-plugin {__version__}")
    parser.add_argument("--log-json", action="store_true", help="log JSON lines instead of console lines")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plugins = commands.add_parser("plugins", help="list extensions, their hooks and what they provide")
    plugins.add_argument("--json", action="store_true", help="print JSON")
    plugins.set_defaults(func=_plugins)

    demo = commands.add_parser("demo", help="run the demo against the stub host")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.set_defaults(func=_demo)

    check = commands.add_parser("check", help="test one user's connection (token, EWS, folders)")
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument("--host-dir", help="a stub host's directory (its SQLite ERP holds the settings)")
    source.add_argument(
        "--settings", help='a JSON file: {"user_id", "email", "tenant": {...}, "user": {...}}'
    )
    check.add_argument("--user", help="the user to check (with --host-dir)")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(func=_check)

    status = commands.add_parser("status", help="every user's sync state, errors, next due time, last tick")
    status.add_argument("--host-dir", required=True, help="a stub host's directory")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument("--now", help=argparse.SUPPRESS)  # tests: an ISO-8601 time to judge the timer by
    status.set_defaults(func=_status)

    enable = commands.add_parser("enable", help="enable a disabled user's sync and mail fetch again")
    enable.add_argument("--host-dir", required=True, help="a stub host's directory")
    enable.add_argument("--user", required=True, help="the user to enable")
    enable.add_argument("--mailbox", help="only this mailbox's fetch (default: every scope of the user)")
    enable.set_defaults(func=_enable)

    commands.add_parser("emulator", help="run a local Exchange (EWS + Entra ID); --help shows its options")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run ``erp-exchange``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:  # its own options, --help included, go to the emulator's parser
        from erp_exchange_plugin.testing.emulator.cli import main as emulator_main

        return emulator_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "check" and args.host_dir is not None and not args.user:
        parser.error("check --host-dir needs --user")
    configure_cli_logging(json=args.log_json, level=logging.DEBUG if args.verbose else logging.WARNING)
    func: Callable[[argparse.Namespace, TextIO], int] = args.func
    return func(args, out or sys.stdout)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
