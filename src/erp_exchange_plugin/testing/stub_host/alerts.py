"""The stub host's alerts (:class:`erp_hookspecs.Alerts`): stored, for tests to read back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime

from erp_exchange_plugin.testing.stub_host.codec import as_utc
from erp_exchange_plugin.testing.stub_host.database import Database
from erp_hookspecs import Alert, Severity


def _alert(row: sqlite3.Row) -> Alert:
    return Alert(
        code=row["code"],
        message=row["message"],
        severity=Severity(row["severity"]),
        user_id=row["user_id"],
        for_admin=bool(row["for_admin"]),
    )


class StubAlerts:
    """Keeps every raised alert in the ``alerts`` table.

    :param db: The host's database.
    :param clock: Returns the current, timezone-aware time (for ``raised_at``).
    """

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def raise_alert(self, alert: Alert) -> None:
        """Store ``alert``; the stub host shows it to nobody, tests read it with :meth:`raised`."""
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO alerts (code, message, severity, user_id, for_admin, raised_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    alert.code,
                    alert.message,
                    Severity(alert.severity).value,
                    alert.user_id,
                    int(alert.for_admin),
                    as_utc(self._clock()).isoformat(),
                ),
            )

    def raised(self, *, user_id: str | None = None, code: str | None = None) -> list[Alert]:
        """Return the raised alerts, oldest first, optionally only one user's or one code's."""
        rows = self._db.query(
            "SELECT * FROM alerts WHERE (:user IS NULL OR user_id = :user) "
            "AND (:code IS NULL OR code = :code) ORDER BY id",
            {"user": user_id, "code": code},
        )
        return [_alert(row) for row in rows]
