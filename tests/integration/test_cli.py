"""The erp-exchange command line: --version, plugins, demo."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from erp_exchange_plugin import __version__
from erp_exchange_plugin.cli import main
from erp_exchange_plugin.demo.data import appointments, tasks
from erp_exchange_plugin.demo.story import ERP_ADDRESSES, OUTLOOK_CONTACTS


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_version_is_printed_by_the_installed_script() -> None:
    script = Path(sys.executable).parent / "erp-exchange"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"erp-exchange-plugin {__version__}"


def test_plugins_lists_the_host_registration() -> None:
    code, text = _run("plugins")
    assert code == 0
    assert "exchange = erp_exchange_plugin.plugin:plugin" in text


def test_plugins_shows_broken_extensions_and_why(fake_dists: Path) -> None:
    code, text = _run("plugins", "--json")
    assert code == 0
    report = json.loads(text)
    states = {e["name"]: e for e in report["extensions"]}
    assert states["import_fails"]["state"] == "broken"
    assert "module_that_does_not_exist" in states["import_fails"]["reason"]
    assert report["mail_providers"]["jmap"] == "JMAP"
    assert {"imap", "pop3"} <= set(report["mail_providers"])
    assert report["host_entry_points"][0]["name"] == "exchange"


def test_demo_runs_and_verifies_what_it_shows() -> None:
    code, text = _run("demo")
    assert code == 0, text
    assert "PROBLEM" not in text
    assert "REJECTED, nothing stored" in text
    assert "Every number above was checked" in text


def test_demo_json_matches_the_story_and_hides_secrets() -> None:
    code, text = _run("demo", "--json")
    assert code == 0, text
    summary = json.loads(text)
    assert summary["problems"] == []
    assert summary["plugin_loaded_from_entry_point"] is True
    assert [u["ok"] for u in summary["users"]] == [True, True, False]
    assert summary["users"][0]["origins"]["client_secret"] == "tenant"
    assert summary["users"][1]["origins"]["client_secret"] == "user"
    first, second = summary["ticks"]
    seeded = sum(ERP_ADDRESSES.values()) + len(appointments(date.today())) + len(tasks(date.today()))
    assert first["totals"]["to_exchange.created"] == seeded
    assert first["totals"]["to_erp.created"] == sum(OUTLOOK_CONTACTS.values())
    assert second["totals"]["conflicts"] == 1
    anna = summary["final"]["anna"]
    assert anna["erp_addresses"] == anna["exchange_contacts"]
    assert anna["erp_appointments"] == anna["exchange_calendar"] == len(appointments(date.today()))
    assert anna["erp_tasks"] == anna["exchange_tasks"] == len(tasks(date.today()))
    assert "bjoerns-own-secret" not in text
    assert "********" in text


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        _run("frobnicate")
    assert exc.value.code == 2
