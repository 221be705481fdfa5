"""Done-when of the connection issue: `erp-exchange check` against a running `erp-exchange emulator`,
both as separate processes that know each other only through the emulator's JSON line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCRIPT = str(Path(sys.executable).parent / "erp-exchange")


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[dict[str, Any]]:
    proc = subprocess.Popen([SCRIPT, "emulator"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    yield info
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def settings_file(tmp_path: Path, info: dict[str, Any], **override: Any) -> Path:
    tenant = {
        "tenant_id": info["tenant_id"],
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "authority_host": info["authority"].rsplit("/", 1)[0],
        "ews_url": info["ews_url"],
        "ca_file": info["ca_file"],
        **override,
    }
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"user_id": "anna", "email": info["mailboxes"][0], "tenant": tenant}))
    return path


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, "check", "--settings", str(path)], capture_output=True, text=True, check=False
    )


def test_check_succeeds_against_a_running_emulator(emulator_process: dict[str, Any], tmp_path: Path) -> None:
    done = check(settings_file(tmp_path, emulator_process))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Everything works." in done.stdout
    for folder in ("contacts", "calendar", "tasks", "inbox"):
        assert f"[ok  ] {folder}" in done.stdout


@pytest.mark.parametrize(
    ("override", "code_words"),
    [
        ({"client_secret": "not-the-secret-42"}, "rejected the client secret"),
        ({"ews_url": "https://127.0.0.1:1/EWS/Exchange.asmx"}, "cannot reach"),
    ],
)
def test_check_fails_precisely_for_a_bad_setting(
    emulator_process: dict[str, Any], tmp_path: Path, override: dict[str, Any], code_words: str
) -> None:
    done = check(settings_file(tmp_path, emulator_process, **override))
    assert done.returncode == 1
    assert code_words in done.stdout
    assert "what to do:" in done.stdout
    assert emulator_process["client_secret"] not in done.stdout + done.stderr
