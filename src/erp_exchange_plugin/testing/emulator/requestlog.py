"""The request log: one entry per HTTP request the emulator answered, and per-operation counters."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class LogEntry:
    """One answered request. ``operation`` is the EWS operation, ``token``/``discovery`` for Entra, ``admin:...`` for the admin API.

    ``attributes`` are the EWS operation element's attributes as sent (for example
    ``{"MessageDisposition": "SaveOnly", "SendMeetingInvitations": "SendToNone"}``), so tests can
    check what a client asked the server to do beyond storing items.
    """

    time: float
    operation: str
    mailbox: str | None
    status: int
    fault: str | None
    duration_ms: float
    attributes: dict[str, str] = field(default_factory=dict)


class RequestLog:
    """A bounded, thread-safe log with counters that are never truncated."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=maxlen)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, entry: LogEntry) -> None:
        """Record an answered request."""
        with self._lock:
            self._entries.append(entry)
            self._counts[entry.operation] += 1

    def entries(self) -> list[LogEntry]:
        """A snapshot of the entries, oldest first."""
        with self._lock:
            return list(self._entries)

    def counts(self) -> dict[str, int]:
        """Requests per operation since the last clear."""
        with self._lock:
            return dict(self._counts)

    def count(self, operation: str) -> int:
        """Requests for one operation since the last clear."""
        with self._lock:
            return self._counts[operation]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._counts.clear()

    def as_json(self) -> dict[str, Any]:
        """The admin API's view."""
        return {"counts": self.counts(), "entries": [asdict(e) for e in self.entries()]}
