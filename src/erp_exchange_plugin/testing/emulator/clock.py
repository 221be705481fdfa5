"""The emulator's clock: real time plus an offset that tests can move forward.

Token issue and expiry (Entra) and token validation (EWS) read this clock, so a test can let a real token
expire without sleeping: ``emulator.clock.advance(3600)``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time


class Clock:
    """Wall-clock time shifted by an adjustable offset (seconds)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch, as the emulator sees it."""
        with self._lock:
            return time.time() + self._offset

    def now(self) -> dt.datetime:
        """The emulator's current time as an aware UTC datetime, to the second."""
        return dt.datetime.fromtimestamp(int(self.time()), dt.UTC)

    def advance(self, seconds: float) -> None:
        """Move the emulator's time forward (or back, with a negative value)."""
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        """Back to real time."""
        with self._lock:
            self._offset = 0.0
