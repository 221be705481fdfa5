"""A lease held while one user's sync (or one mailbox's fetch) runs, renewed in the background.

:func:`acquire` takes the lease row in the state database (see :mod:`erp_exchange_plugin.state.leases`)
or returns ``None`` when another run (another thread, process or host on the same database) holds
it. The returned :class:`Lease` is a context manager: while the block runs, a daemon thread renews
the lease every third of its time to live; at the end the lease is released. A crashed process
stops renewing, so its leases expire after ``ttl`` and the next tick takes them over.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType

from erp_exchange_plugin.log import get_logger
from erp_exchange_plugin.state import leases
from erp_exchange_plugin.state.database import Database

log = get_logger(__name__)

DEFAULT_TTL = timedelta(minutes=2)
"""How long a lease lives without renewal: the longest a crashed holder blocks a user."""


def new_holder() -> str:
    """A holder name unique to one run: host name, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Lease:
    """A taken lease; use it as a context manager (renewed inside, released at the end)."""

    def __init__(
        self, db: Database, resource: str, holder: str, ttl: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.resource = resource
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        self.lost = False
        """True when a renewal found the lease taken by someone else (it had expired)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _renew_loop(self) -> None:
        interval = max(self.ttl.total_seconds() / 3, 0.01)
        while not self._stop.wait(interval):
            try:
                if not leases.renew(self.db, self.resource, self.holder, self.ttl, self.clock()):
                    self.lost = True
                    log.warning("lease lost", resource=self.resource, holder=self.holder)
                    return
            except Exception as exc:  # the database is briefly unavailable: try again next time
                log.warning("lease renewal failed", resource=self.resource, error=type(exc).__name__)

    def __enter__(self) -> Lease:
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease {self.resource}", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        leases.release(self.db, self.resource, self.holder)


def acquire(
    db: Database,
    resource: str,
    *,
    ttl: timedelta = DEFAULT_TTL,
    clock: Callable[[], datetime] = _utcnow,
    holder: str | None = None,
) -> Lease | None:
    """Take ``resource``'s lease, or ``None`` when someone else holds it."""
    holder = holder or new_holder()
    if not leases.take(db, resource, holder, ttl, clock()):
        return None
    return Lease(db, resource, holder, ttl, clock)
