"""A sync run in its own process, for the crash tests: ``python -m tests.reliability.crash_worker HOST_DIR USER``.

It syncs the user's contacts once with the stub host in HOST_DIR (settings point at the emulator)
and exits 0; the test kills it somewhere in the middle.
"""

from __future__ import annotations

import sys
from pathlib import Path

from erp_exchange_plugin.item_types import contacts
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost


def main(host_dir: str, user_id: str) -> int:
    with StubHost(Path(host_dir), load_entry_points=False) as host:
        settings = resolve_user(host, user_id).settings
        assert settings is not None
        service = SyncService(host, {"contacts": contacts.item_type()})
        try:
            service.sync_user(settings, ["contacts"])
        finally:
            service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
