"""The stub host loads plugins from the entry-point group ``erp``, like a real host.

Each test installs a fake distribution ``stubhost-fake`` into a directory on ``sys.path``: a
``*.dist-info`` directory with METADATA and entry_points.txt (``erp: stubhost_fake = <module>``)
beside the plugin module. ``importlib.metadata`` (and so pluggy) finds it exactly as it finds an
installed wheel.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from erp_exchange_plugin.testing import StubHost
from erp_hookspecs import Mailbox, MailFetchReport

FAKE_DIST = "stubhost-fake"
FAKE_ENTRY_POINT = "stubhost_fake"

_PLUGIN_SOURCE = """
from erp_hookspecs import MailFetchReport, hookimpl


@hookimpl
def on_mail_fetch(host, mailbox):
    if mailbox.protocol != "fake":
        return None
    return MailFetchReport(mailbox_id=mailbox.mailbox_id, skipped=("loaded from an entry point",))
"""


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Install the fake distribution; yield the plugin's module name (unique per test)."""
    module = f"stubhost_fake_plugin_{uuid.uuid4().hex}"
    site = tmp_path / "site-packages"
    dist_info = site / "stubhost_fake-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (site / f"{module}.py").write_text(_PLUGIN_SOURCE)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {FAKE_DIST}\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        textwrap.dedent(
            f"""\
            [erp]
            {FAKE_ENTRY_POINT} = {module}
            """
        )
    )
    monkeypatch.syspath_prepend(str(site))
    yield module
    sys.modules.pop(module, None)


def _assert_fake_plugin_loaded(host: StubHost, module: str) -> None:
    plugin = host.plugin_manager.get_plugin(FAKE_ENTRY_POINT)
    assert plugin is not None
    assert plugin.__name__ == module
    dists = {dist.metadata["Name"] for _, dist in host.plugin_manager.list_plugin_distinfo()}
    assert FAKE_DIST in dists
    report = host.mail_fetch(Mailbox("mb1", "u1", "fake"))
    assert report == MailFetchReport(mailbox_id="mb1", skipped=("loaded from an entry point",))
    (call,) = host.hook_calls("on_mail_fetch")
    assert FAKE_ENTRY_POINT in call.plugins


def test_loads_a_named_entry_point_only(tmp_path: Path, fake_distribution: str) -> None:
    with StubHost(tmp_path / "erp", load_entry_points=[FAKE_ENTRY_POINT]) as host:
        _assert_fake_plugin_loaded(host, fake_distribution)
        # Only the named one: the real plugin's ``erp = exchange`` entry point is not loaded.
        assert host.plugin_manager.list_name_plugin() == [(FAKE_ENTRY_POINT, sys.modules[fake_distribution])]


def test_loads_no_entry_point_when_told(tmp_path: Path, fake_distribution: str) -> None:
    with StubHost(tmp_path / "erp", load_entry_points=False) as host:
        assert host.plugin_manager.get_plugin(FAKE_ENTRY_POINT) is None
        assert host.mail_fetch(Mailbox("mb1", "u1", "fake")) is None


def test_loads_every_entry_point_by_default(tmp_path: Path, fake_distribution: str) -> None:
    try:
        host = StubHost(tmp_path / "erp")
    except ModuleNotFoundError as exc:
        # BRANCH-TRANSIENT: the installed metadata of erp-exchange-plugin declares the entry
        # point ``erp = exchange -> erp_exchange_plugin.plugin`` while that module is being
        # written on another branch. Skip for exactly that missing module and nothing else;
        # once the module exists this test loads it together with the fake plugin. Any other
        # import error (in the real plugin or the fake one) fails the test.
        if exc.name == "erp_exchange_plugin.plugin" and importlib.util.find_spec(exc.name) is None:
            pytest.skip("erp_exchange_plugin.plugin does not exist on this branch yet")
        raise
    with host:
        _assert_fake_plugin_loaded(host, fake_distribution)
        assert host.plugin_manager.get_plugin("exchange") is not None
