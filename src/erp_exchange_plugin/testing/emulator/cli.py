"""``erp-exchange emulator``: run the EWS emulator until SIGINT/SIGTERM.

Usage: ``erp-exchange emulator [--port N] [--mailbox ADDRESS[:PASSWORD]]... [--latency-ms N] [--state FILE]``

When it is ready it prints ONE JSON line on stdout with ``ews_url``, ``authority``, ``tenant_id``,
``client_id``, ``client_secret``, ``ca_file``, ``admin_url``, ``mailboxes`` (and ``api_version``). Without
``--mailbox`` it has two demo mailboxes (alice@example.com / alice-password, bob@example.com / bob-password).
With ``--state`` the data, ids, sync states and app credentials survive restarts (saved on shutdown and
every 2 s after changes).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from .server import DEFAULT_MAILBOXES, Emulator, MailboxSpec
from .soap import SERVER_VERSIONS


def _mailbox(value: str) -> tuple[str, str | None]:
    address, sep, password = value.partition(":")
    if "@" not in address:
        raise argparse.ArgumentTypeError(f"not an e-mail address: {address!r}")
    return address, (password if sep else None)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the top-level CLI for its help)."""
    parser = argparse.ArgumentParser(
        prog="erp-exchange emulator", description="Run a local EWS server with a local Entra ID."
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--mailbox",
        action="append",
        type=_mailbox,
        default=[],
        metavar="ADDRESS[:PASSWORD]",
        help="a mailbox (repeatable); the password enables Basic auth for it",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every EWS request")
    parser.add_argument("--state", metavar="FILE", help="keep data across restarts in this JSON file")
    parser.add_argument(
        "--api-version", default="Exchange2016", choices=sorted(SERVER_VERSIONS), help="announced version"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the emulator; return the exit code."""
    args = build_parser().parse_args(argv)
    mailboxes: list[MailboxSpec] = list(args.mailbox) or list(DEFAULT_MAILBOXES)
    try:
        emulator = Emulator(
            mailboxes,
            port=args.port,
            latency_ms=args.latency_ms,
            state_file=args.state,
            api_version=args.api_version,
        )
    except (OSError, ValueError) as exc:
        print(f"erp-exchange emulator: {exc}", file=sys.stderr)
        return 2
    for address, password in args.mailbox:
        emulator.add_mailbox(address, password)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        emulator.start()
        sys.stdout.write(json.dumps(emulator.ready_info()) + "\n")
        sys.stdout.flush()
        stop.wait()
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
