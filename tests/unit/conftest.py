"""Shared helpers for the stub host's unit tests."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from erp_exchange_plugin.testing import StubHost


@pytest.fixture
def stub_host_entry_points() -> bool | Collection[str]:
    """Load no entry point in these tests: they register test plugins through ``plugins=``.

    (The real plugin's entry point ``erp = exchange`` is in the installed metadata, and its
    module is written on another branch; only test_stub_host_entry_points.py loads entry
    points.)
    """
    return False


class FakeClock:
    """A clock that moves only when told, one second per reading by default."""

    def __init__(self, start: datetime = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)) -> None:
        self.now = start
        self.step = timedelta(seconds=1)

    def __call__(self) -> datetime:
        current = self.now
        self.now += self.step
        return current


@pytest.fixture
def clock() -> FakeClock:
    """A fresh :class:`FakeClock`."""
    return FakeClock()


@pytest.fixture
def host(tmp_path: Path, clock: FakeClock) -> Iterator[StubHost]:
    """A stub host with a fake clock, no entry points, and users u1 and u2 (feature exchange)."""
    with StubHost(tmp_path / "erp", load_entry_points=False, clock=clock) as h:
        h.add_user("u1", "Ursula One", "u1@example.com")
        h.add_user("u2", "Udo Two", "u2@example.com")
        yield h
