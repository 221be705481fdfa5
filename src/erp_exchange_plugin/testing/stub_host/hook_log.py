"""The stub host's record of every hook call, through pluggy's hook-call monitoring."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pluggy

from erp_exchange_plugin.testing.stub_host.codec import as_utc, to_json
from erp_exchange_plugin.testing.stub_host.database import Database


@dataclass(frozen=True, slots=True)
class HookCall:
    """One recorded hook call.

    :param name: The hook, for example ``"on_timer_tick"``.
    :param plugins: The names of the plugins that implement it, in pluggy's call order.
    :param arguments: A JSON-safe summary of the arguments without ``host`` (see
        :func:`~erp_exchange_plugin.testing.stub_host.codec.summarize`; secret-looking keys
        are masked).
    :param result: A JSON-safe summary of what the call returned (``None`` when it raised).
    :param exception: ``"TypeName: message"`` when the call raised, else ``None``.
    :param started_at: When the call started (the host's clock, UTC).
    :param duration: How long it took, in seconds (wall time).
    """

    name: str
    plugins: tuple[str, ...]
    arguments: Mapping[str, Any]
    result: Any
    exception: str | None
    started_at: datetime
    duration: float


def _call(row: sqlite3.Row) -> HookCall:
    return HookCall(
        name=row["name"],
        plugins=tuple(json.loads(row["plugins"])),
        arguments=json.loads(row["arguments"]),
        result=json.loads(row["result"]) if row["result"] is not None else None,
        exception=row["exception"],
        started_at=datetime.fromisoformat(row["started_at"]),
        duration=row["duration"],
    )


class HookRecorder:
    """Writes one ``hook_calls`` row per hook call of a plugin manager.

    :param db: The host's database.
    :param clock: Returns the current, timezone-aware time (for ``started_at``).
    """

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock
        # Hooks may call hooks and run in several threads: one stack of start times per thread.
        self._local = threading.local()

    def _stack(self) -> list[tuple[datetime, float]]:
        stack: list[tuple[datetime, float]] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def attach(self, pm: pluggy.PluginManager) -> Callable[[], None]:
        """Start recording the calls of ``pm``'s hooks; returns the function that stops it."""
        return pm.add_hookcall_monitoring(self._before, self._after)

    def _before(
        self, hook_name: str, hook_impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]
    ) -> None:
        self._stack().append((as_utc(self._clock()), time.perf_counter()))

    def _after(
        self,
        outcome: pluggy.Result[object],
        hook_name: str,
        hook_impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, object],
    ) -> None:
        started_at, started = self._stack().pop()
        duration = time.perf_counter() - started
        arguments = {key: value for key, value in kwargs.items() if key != "host"}
        exc = outcome.exception
        if exc is None:
            result_json: str | None = to_json(outcome.get_result())
            exception = None
        else:
            result_json = None
            exception = f"{type(exc).__name__}: {exc}"
        # pluggy calls the implementations last-registered first.
        plugins = [impl.plugin_name for impl in reversed(hook_impls)]
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO hook_calls (name, plugins, arguments, result, exception, started_at, duration) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    hook_name,
                    json.dumps(plugins),
                    to_json(arguments),
                    result_json,
                    exception,
                    started_at.isoformat(),
                    duration,
                ),
            )

    def calls(self, name: str | None = None) -> list[HookCall]:
        """Return the recorded calls, oldest first (by completion), optionally of one hook only."""
        rows = self._db.query(
            "SELECT * FROM hook_calls WHERE (:name IS NULL OR name = :name) ORDER BY id", {"name": name}
        )
        return [_call(row) for row in rows]
