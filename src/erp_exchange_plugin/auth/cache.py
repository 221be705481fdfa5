"""A persisted msal token cache: one JSON file, mode 0600, written atomically.

The file holds access tokens in clear text (that is msal's format), so it is created with
mode 0600 before anything is written into it, replaced atomically, and never logged.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import msal

from erp_exchange_plugin.log import get_logger

log = get_logger(__name__)


class PersistedTokenCache:
    """An msal ``SerializableTokenCache`` mirrored to ``path``.

    :param path: The cache file; its directory is created (mode 0700) when missing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cache = msal.SerializableTokenCache()
        self._lock = threading.Lock()
        if path.exists():
            try:
                self.cache.deserialize(path.read_text())
            except (ValueError, OSError) as exc:
                log.warning(
                    "token cache unreadable, starting empty", path=str(path), error=type(exc).__name__
                )

    def save_if_changed(self) -> None:
        """Write the cache when msal changed it."""
        with self._lock:
            if not self.cache.has_state_changed:
                return
            data = self.cache.serialize()
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".token-cache.", dir=self.path.parent)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self.cache.has_state_changed = False
