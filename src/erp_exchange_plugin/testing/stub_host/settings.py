"""The stub host's raw settings (:class:`erp_hookspecs.SettingsSource`).

Values are stored as the user or administrator typed them: one JSON object per section
(a section per plugin, for example ``"exchange"``), unvalidated. Validation is the plugin's job
(:func:`erp_hookspecs.specs.on_user_settings_load`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from erp_exchange_plugin.testing.stub_host.database import Database


def _encode(values: Mapping[str, Any]) -> str:
    if not isinstance(values, Mapping):
        raise TypeError(f"settings are a mapping, not {type(values).__name__}")
    try:
        return json.dumps(dict(values), sort_keys=True)
    except TypeError as exc:
        raise TypeError(f"settings must be JSON values (as a settings form posts them): {exc}") from None


class StubSettings:
    """Tenant-wide and per-user settings sections.

    Each read returns a fresh ``dict``: changing it changes nothing in the host.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def tenant_section(self, section: str) -> Mapping[str, Any]:
        """Return what the administrator set for ``section`` (empty if nothing)."""
        rows = self._db.query('SELECT "values" FROM tenant_settings WHERE section = ?', (section,))
        return dict(json.loads(rows[0]["values"])) if rows else {}

    def user_section(self, user_id: str, section: str) -> Mapping[str, Any]:
        """Return what ``user_id`` set for ``section`` (empty if nothing)."""
        rows = self._db.query(
            'SELECT "values" FROM user_settings WHERE user_id = ? AND section = ?', (user_id, section)
        )
        return dict(json.loads(rows[0]["values"])) if rows else {}

    def set_tenant_section(self, section: str, values: Mapping[str, Any]) -> None:
        """Replace the tenant-wide ``section`` with ``values`` (an empty mapping clears it)."""
        encoded = _encode(values)
        with self._db.transaction() as conn:
            conn.execute(
                'INSERT INTO tenant_settings (section, "values") VALUES (?, ?) '
                'ON CONFLICT (section) DO UPDATE SET "values" = excluded."values"',
                (section, encoded),
            )

    def set_user_section(self, user_id: str, section: str, values: Mapping[str, Any]) -> None:
        """Replace ``user_id``'s ``section`` with ``values`` (an empty mapping clears it).

        :raises KeyError: there is no such user.
        """
        encoded = _encode(values)
        with self._db.transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE user_id = ?", (user_id,)).fetchone() is None:
                raise KeyError(f"no user {user_id!r}")
            conn.execute(
                'INSERT INTO user_settings (user_id, section, "values") VALUES (?, ?, ?) '
                'ON CONFLICT (user_id, section) DO UPDATE SET "values" = excluded."values"',
                (user_id, section, encoded),
            )
