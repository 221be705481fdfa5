"""pytest plugin (entry point ``pytest11``) with fixtures for testing against the stub host.

It is active in every pytest run of an environment where erp-exchange-plugin is installed.

- ``ews_emulator`` (session) and ``ews_emulator_clean`` (reset per test): the EWS emulator with its
  local Entra ID (see :mod:`erp_exchange_plugin.testing.emulator.fixtures`);
- ``dovecot`` (session) and ``dovecot_user`` (per test): a real Dovecot for IMAP and POP3 (see
  :mod:`erp_exchange_plugin.testing.dovecot_fixtures`);

- ``stub_host``: a fresh :class:`~erp_exchange_plugin.testing.StubHost` per test, in a
  temporary directory, closed after the test.
- ``stub_host_entry_points`` and ``stub_host_plugins``: what the ``stub_host`` fixture loads.
  Override them in a ``conftest.py`` or a test module to choose the plugins::

      import pytest
      import my_plugin

      @pytest.fixture
      def stub_host_entry_points():
          return ["mine"]          # only the entry point erp = mine, not every installed plugin

      @pytest.fixture
      def stub_host_plugins():
          return [my_plugin.TestDouble()]
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

import pytest

from erp_exchange_plugin.testing.dovecot_fixtures import dovecot, dovecot_user
from erp_exchange_plugin.testing.emulator.fixtures import ews_emulator, ews_emulator_clean
from erp_exchange_plugin.testing.stub_host import StubHost

__all__ = ["dovecot", "dovecot_user", "ews_emulator", "ews_emulator_clean", "stub_host"]


@pytest.fixture
def stub_host_entry_points() -> bool | Collection[str]:
    """What ``stub_host`` loads from the entry-point group ``erp``: ``True`` (all, the default),
    ``False`` (none) or a collection of entry-point names."""
    return True


@pytest.fixture
def stub_host_plugins() -> Sequence[object]:
    """Plugin objects ``stub_host`` registers besides the entry points (none by default)."""
    return ()


@pytest.fixture
def stub_host(
    tmp_path: Path, stub_host_entry_points: bool | Collection[str], stub_host_plugins: Sequence[object]
) -> Iterator[StubHost]:
    """A fresh stub host in ``tmp_path / "erp"``, with no users and no settings.

    Seed it with :meth:`~erp_exchange_plugin.testing.StubHost.add_user` and friends, drive
    the plugins with its ``timer_tick``, ``mail_fetch`` and ``user_settings_load`` methods, and
    read back ``hook_calls``, ``received_mail`` and ``raised_alerts``.
    """
    with StubHost(
        tmp_path / "erp", plugins=stub_host_plugins, load_entry_points=stub_host_entry_points
    ) as host:
        yield host
