"""Shared fixtures of the whole suite."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

pytest_plugins = ["pytester"]

FAKE_DISTS = Path(__file__).parent / "fake_dists"


@pytest.fixture
def fake_dists(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Put the fake installed distributions of tests/fake_dists on sys.path for one test."""
    monkeypatch.syspath_prepend(str(FAKE_DISTS))
    yield FAKE_DISTS
    for name in [m for m in sys.modules if m.startswith("fake_")]:
        del sys.modules[name]


@pytest.fixture(autouse=True)
def _restore_structlog_config() -> Iterator[None]:
    """The CLI configures structlog for itself; keep one test's configuration from leaking into others."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
