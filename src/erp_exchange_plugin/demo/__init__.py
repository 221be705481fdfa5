"""``erp-exchange demo``: the stub host, the emulator (and Dovecot) in-process, a full sync and mail fetch.

See :mod:`erp_exchange_plugin.demo.story` for the story; :func:`run_demo` prints it readably (or as
JSON) and returns non-zero if anything it shows did not really happen.
"""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from erp_exchange_plugin.demo.output import table
from erp_exchange_plugin.demo.story import ERP_ADDRESSES, OUTLOOK_CONTACTS, Story, Summary

__all__ = ["run_demo"]


def _print(summary: Summary, out: TextIO) -> None:
    out.write(f"\nerp-exchange-plugin {summary.version}: demo\n\n")
    out.write("Settings (the administrator set the OAuth triple once for the tenant):\n")
    for user in summary.users:
        state = "saved" if user["stored"] else "REJECTED, nothing stored"
        out.write(f"  {user['user_id']}: {state}\n")
        for key, value in user["effective"].items():
            out.write(f"      {key:<14} {value!s:<50} from {user['origins'][key]}\n")
        for error in user["errors"]:
            out.write(f"      error: {error}\n")
    out.write(
        f"\nSeeded: {sum(ERP_ADDRESSES.values())} ERP addresses, Anna's appointments (timed, all-day, a weekly "
        f"series) and tasks, {sum(OUTLOOK_CONTACTS.values())} Outlook contacts\n\n"
    )
    rows = []
    for tick in summary.ticks:
        t = tick["totals"]
        rows.append([
            tick["label"], ", ".join(tick["users"]),
            f"{t.get('to_exchange.created', 0)}/{t.get('to_exchange.updated', 0)}/{t.get('to_exchange.deleted', 0)}",
            f"{t.get('to_erp.created', 0)}/{t.get('to_erp.updated', 0)}/{t.get('to_erp.deleted', 0)}",
            t.get("conflicts", 0), t.get("requests", 0),
        ])  # fmt: skip
    table(
        ["timer tick", "users", "ERP->Exchange c/u/d", "Exchange->ERP c/u/d", "conflicts", "EWS requests"],
        rows,
        out,
    )
    out.write("\nBoth sides afterwards:\n")
    table(
        ["user", "ERP addresses", "Exchange contacts", "ERP appointments", "Exchange calendar", "ERP tasks",
         "Exchange tasks"],
        [[u, v["erp_addresses"], v["exchange_contacts"], v.get("erp_appointments", "-"), v.get("exchange_calendar", "-"),
          v.get("erp_tasks", "-"), v.get("exchange_tasks", "-")] for u, v in summary.final.items()],
        out,
    )  # fmt: skip
    out.write("\nMail fetch:\n")
    fetched = {k: v for k, v in summary.mail.items() if "skipped" not in v}
    table(
        ["mailbox", "protocol", "delivered", "second fetch", "in the host's store"],
        [[k, v["protocol"], v["delivered"], v["second_fetch_delivered"], v["stored_in_host"]]
         for k, v in fetched.items()],
        out,
    )  # fmt: skip
    for name, value in summary.mail.items():
        if "skipped" in value:
            out.write(f"  {name}: skipped: {value['skipped']}\n")
    out.write("\n")
    if summary.problems:
        for problem in summary.problems:
            out.write(f"PROBLEM: {problem}\n")
    else:
        out.write(
            "Every number above was checked against the emulator's mailboxes and the stub host's database.\n"
        )


def run_demo(*, json_output: bool, out: TextIO, seed: int = 20261130) -> int:
    """Run the demo; returns 0 only if everything it shows really happened."""
    with tempfile.TemporaryDirectory(prefix="erp-exchange-demo-") as tmp:
        summary = Story(Path(tmp), random.Random(seed)).run()  # noqa: S311 - demo data, not secrets
    if json_output:
        json.dump(asdict(summary), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    else:
        _print(summary, out)
    return 1 if summary.problems else 0
