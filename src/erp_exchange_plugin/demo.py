"""``erp-exchange demo``: the stub host loading the plugin and resolving users' settings.

What exists today is shown for real: a temporary SQLite ERP (the stub host) loads the plugin
through its entry point, an administrator sets the tenant's OAuth triple, and three users save
their settings: one inherits everything, one brings their own app registration, one makes
mistakes. The demo then reads back what the host stored and exits non-zero if anything it
showed did not really happen.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from erp_exchange_plugin import __version__
from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.testing import StubHost
from erp_hookspecs import SettingsResult

TENANT = {
    "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "client_id": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "client_secret": "demo-tenant-secret-value~0123456789",
    "allowed_mailbox_domains": ["contoso.com", "fabrikam.com"],
    "locked_fields": ["authority_host"],
}

USERS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("anna", "Anna Müller", "anna.mueller@contoso.com", {}),
    (
        "björn",
        "Björn Åström",
        "bjoern@contoso.com",
        {
            "tenant_id": "fabrikam.onmicrosoft.com",
            "client_id": "11111111-2222-3333-4444-555555555555",
            "client_secret": "bjoerns-own-app-secret~9876543210",
            "mailbox": "bjoern@fabrikam.com",
            "sync_interval_minutes": 2,
        },
    ),
    (
        "chloé",
        "Chloé Dubois",
        "chloe@contoso.com",
        {
            "client_id": "not-a-guid",
            "ews_url": "http://mail.contoso.com/EWS/Exchange.asmx",
            "mailbox": "chloe@gmail.com",
            "authority_host": "https://login.example.com",
        },
    ),
]


@dataclass
class DemoSummary:
    """What the demo did, and what it verified in the stub host's database."""

    version: str
    plugin_loaded_from_entry_point: bool
    users: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _row(user_id: str, result: SettingsResult, stored: bool) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "ok": result.ok,
        "stored": stored,
        "effective": {k: result.effective[k] for k in ("mailbox", "tenant_id", "client_secret", "ews_url")},
        "origins": {k: str(result.origins[k]) for k in ("mailbox", "tenant_id", "client_secret", "ews_url")},
        "errors": [f"{e.level} {e.field}: {e.message}" for e in result.errors],
        "editable": sorted(result.editable),
    }


def build_summary(directory: Path) -> DemoSummary:
    """Run the demo in ``directory`` and return what happened."""
    with StubHost(directory) as host:
        plugin = dict(host.plugin_manager.list_name_plugin()).get("exchange")
        summary = DemoSummary(__version__, isinstance(plugin, ExchangePlugin))
        if not summary.plugin_loaded_from_entry_point:
            summary.problems.append("the plugin was not loaded from the entry point erp = exchange")
        host.set_tenant_settings(SECTION, TENANT)
        for user_id, name, email, proposed in USERS:
            host.add_user(user_id, name, email)
            results = [r for r in host.save_user_settings(user_id, SECTION, proposed) if r.section == SECTION]
            if len(results) != 1:
                summary.problems.append(f"{user_id}: expected one answer for section {SECTION!r}")
                continue
            stored = dict(host.settings.user_section(user_id, SECTION))
            if results[0].ok and stored != proposed:
                summary.problems.append(f"{user_id}: valid settings were not stored")
            if not results[0].ok and stored:
                summary.problems.append(f"{user_id}: invalid settings were stored")
            summary.users.append(_row(user_id, results[0], stored == proposed and results[0].ok))
        calls = host.hook_calls("on_user_settings_load")
        if len(calls) != len(USERS):
            summary.problems.append(f"expected {len(USERS)} hook calls, the host recorded {len(calls)}")
        expected = [True, True, False]
        if [u["ok"] for u in summary.users] != expected:
            summary.problems.append("the users' outcomes differ from what the demo expects (ok, ok, invalid)")
    return summary


def _print(summary: DemoSummary, out: TextIO) -> None:
    out.write(f"erp-exchange-plugin {summary.version} demo\n\n")
    loaded = (
        "loaded through entry point erp = exchange"
        if summary.plugin_loaded_from_entry_point
        else "NOT loaded"
    )
    out.write(f"Stub host (SQLite ERP): plugin {loaded}\n")
    out.write("Tenant settings: OAuth triple set once by the administrator; authority_host locked;\n")
    out.write("                 mailboxes allowed in contoso.com and fabrikam.com\n\n")
    for user in summary.users:
        state = "saved" if user["stored"] else "REJECTED, nothing stored"
        out.write(f"User {user['user_id']}: {state}\n")
        for key, value in user["effective"].items():
            out.write(f"    {key:<14} {value!s:<52} from {user['origins'][key]}\n")
        for error in user["errors"]:
            out.write(f"    error: {error}\n")
    out.write("\n")
    if summary.problems:
        for problem in summary.problems:
            out.write(f"PROBLEM: {problem}\n")
    else:
        out.write("Verified in the stub host's database: valid settings stored, invalid ones not.\n")
        out.write("Sync, mail fetch and the Exchange emulator join this demo as their issues land.\n")


def run_demo(*, json_output: bool, out: TextIO) -> int:
    """Run the demo; returns 0 only if everything shown really happened."""
    with tempfile.TemporaryDirectory(prefix="erp-exchange-demo-") as tmp:
        summary = build_summary(Path(tmp))
    if json_output:
        json.dump(summary.__dict__, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        _print(summary, out)
    return 1 if summary.problems else 0
