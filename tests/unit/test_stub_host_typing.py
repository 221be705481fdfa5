"""mypy accepts the stub host where the host contract's Protocols are expected.

``uv run mypy`` checks ``src`` only (see pyproject.toml), where host.py has the same
assignments under ``TYPE_CHECKING``; this test makes the static check part of the test run,
with a negative control proving that the check can fail.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

_CONFORMING = """
from erp_hookspecs import Alerts, HostServices, MailSink, RecordStore, SettingsSource, UserDirectory
from erp_exchange_plugin.testing import StubHost


def check(host: StubHost) -> None:
    services: HostServices = host
    users: UserDirectory = host.users
    settings: SettingsSource = host.settings
    records: RecordStore = host.records("address", "u1")
    sink: MailSink = host.mail_sink
    alerts: Alerts = host.alerts
"""

_NOT_CONFORMING = """
from erp_hookspecs import RecordStore
from erp_exchange_plugin.testing.stub_host import StubRecordStore


class NoDelete(StubRecordStore):
    delete = None  # type: ignore[assignment]


def check(store: NoDelete) -> None:
    records: RecordStore = store
"""


def _mypy(tmp_path: Path, source: str) -> tuple[str, int]:
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(source))
    cache = Path(__file__).resolve().parents[2] / ".mypy_cache"
    stdout, _stderr, status = mypy_api.run(
        ["--strict", "--no-error-summary", "--cache-dir", str(cache), str(path)]
    )
    return stdout, status


def test_mypy_accepts_the_stub_host_as_the_host_services(tmp_path: Path) -> None:
    stdout, status = _mypy(tmp_path, _CONFORMING)
    assert status == 0, stdout


def test_mypy_rejects_a_record_store_without_delete(tmp_path: Path) -> None:
    stdout, status = _mypy(tmp_path, _NOT_CONFORMING)
    assert status == 1
    assert 'Incompatible types in assignment (expression has type "NoDelete"' in stdout
