"""pytest fixtures around :class:`~erp_exchange_plugin.testing.dovecot.Dovecot`.

- ``dovecot``: one Dovecot per test session (starting costs 0.1 s, stopping about 1 s), with
  its throw-away CA in ``dovecot.ca_file``. Tests skip with a clear reason when the
  ``dovecot`` binary is absent (``apt-get install dovecot-imapd dovecot-pop3d``).
- ``dovecot_user``: a fresh user with an empty Maildir per test, so tests sharing the session's
  server never see each other's mail. It is a :class:`DovecotUser`: name, password, and
  ``deliver``/``change_uidvalidity`` bound to the user.

Use them from a ``conftest.py`` with ``pytest_plugins = ["erp_exchange_plugin.testing.dovecot_fixtures"]``
(or import the fixture functions).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from erp_exchange_plugin.testing.dovecot import Dovecot, dovecot_binary

_users = itertools.count(1)


@dataclass(frozen=True, slots=True)
class DovecotUser:
    """A user of the session's Dovecot: log in with ``name`` and ``password``."""

    server: Dovecot
    name: str
    password: str

    def deliver(self, raw: bytes, folder: str = "INBOX") -> Path:
        """Put a new, unread message into this user's ``folder``."""
        return self.server.deliver(self.name, raw, folder)

    def change_uidvalidity(self, folder: str = "INBOX") -> int:
        """Give this user's ``folder`` a new UIDVALIDITY; returns it."""
        return self.server.change_uidvalidity(self.name, folder)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A Dovecot on free loopback ports for the whole session, stopped (and its directory removed) at its end.

    Its directory is a fresh ``/tmp/erp-dovecot-*`` rather than pytest's ``tmp_path``: Dovecot's
    auth and mail processes run as other users and need to traverse every parent directory,
    and pytest's base temporary directory is private (mode 0700).
    """
    if dovecot_binary() is None:
        pytest.skip("dovecot is not installed: apt-get install dovecot-imapd dovecot-pop3d")
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dovecot_user(dovecot: Dovecot) -> DovecotUser:
    """A new user with an empty mailbox and a random password, for one test."""
    name = f"user{next(_users)}"
    password = f"pw-{secrets.token_hex(8)}"
    dovecot.add_user(name, password)
    return DovecotUser(dovecot, name, password)
