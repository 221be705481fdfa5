"""A host process ticking for the two-process test: ``python -m tests.scheduler.tick_worker HOST_DIR TICKS LOG``.

It loads the plugin from its entry point into a stub host on HOST_DIR (whose settings point at the
emulator), waits for a line on stdin (so both processes start together), then calls the timer
TICKS times, one host-minute apart. A recorder around ``SyncService.sync_user`` appends one JSON
line per sync to LOG: user, process, wall-clock start and end.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost

START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def main(host_dir: str, ticks: int, log_path: str) -> int:
    log = Path(log_path).open("a", buffering=1)  # noqa: SIM115 - open for the patched method's lifetime
    original = SyncService.sync_user

    def recorded(self: SyncService, settings: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.time()
        try:
            return original(self, settings, *args, **kwargs)
        finally:
            line = {"user": settings.user_id, "pid": os.getpid(), "start": started, "end": time.time()}
            log.write(json.dumps(line) + "\n")

    SyncService.sync_user = recorded  # type: ignore[method-assign]
    errors = 0
    with StubHost(Path(host_dir), load_entry_points=["exchange"]) as host:
        print("ready", flush=True)
        sys.stdin.readline()
        for k in range(ticks):
            for report in host.timer_tick(now=START + timedelta(minutes=k), budget_seconds=60):
                errors += len(report.errors)
        plugin = dict(host.plugin_manager.list_name_plugin())["exchange"]
        plugin.close()  # type: ignore[attr-defined]
    log.close()
    print(f"errors {errors}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
