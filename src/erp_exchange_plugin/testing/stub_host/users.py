"""The stub host's user directory (:class:`erp_hookspecs.UserDirectory`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from erp_exchange_plugin.testing.stub_host.database import Database
from erp_hookspecs import User


def _user(row: sqlite3.Row) -> User:
    return User(user_id=row["user_id"], display_name=row["display_name"], email=row["email"])


def _features(features: Iterable[str]) -> str:
    if isinstance(features, str):
        raise TypeError("features is a collection of names, not one string: use ('exchange',)")
    return json.dumps(sorted(set(features)))


class StubUserDirectory:
    """The ERP's users, each with a set of enabled features (``"exchange"`` by default).

    Plugins read it through ``host.users``; tests seed it with
    :meth:`~erp_exchange_plugin.testing.StubHost.add_user`.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def with_feature(self, feature: str) -> Sequence[User]:
        """Return the users who have ``feature`` enabled, ordered by user id.

        :param feature: A feature name, which is also the plugin's settings section.
        """
        rows = self._db.query(
            "SELECT u.user_id, u.display_name, u.email FROM users u, json_each(u.features) f "
            "WHERE f.value = ? ORDER BY u.user_id",
            (feature,),
        )
        return [_user(row) for row in rows]

    def get(self, user_id: str) -> User | None:
        """Return the user with this id, or ``None``."""
        rows = self._db.query("SELECT user_id, display_name, email FROM users WHERE user_id = ?", (user_id,))
        return _user(rows[0]) if rows else None

    def features(self, user_id: str) -> frozenset[str]:
        """Return the features enabled for ``user_id`` (not part of the host contract).

        :raises KeyError: there is no such user.
        """
        rows = self._db.query("SELECT features FROM users WHERE user_id = ?", (user_id,))
        if not rows:
            raise KeyError(f"no user {user_id!r}")
        return frozenset(json.loads(rows[0]["features"]))

    def add(self, user: User, features: Iterable[str]) -> None:
        """Add ``user`` with ``features`` enabled.

        :raises ValueError: a user with this id exists already.
        """
        encoded = _features(features)
        with self._db.transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO users (user_id, display_name, email, features) VALUES (?, ?, ?, ?)",
                    (user.user_id, user.display_name, user.email, encoded),
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"user {user.user_id!r} exists already") from None

    def set_features(self, user_id: str, features: Iterable[str]) -> None:
        """Replace the features enabled for ``user_id``.

        :raises KeyError: there is no such user.
        """
        encoded = _features(features)
        with self._db.transaction() as conn:
            cur = conn.execute("UPDATE users SET features = ? WHERE user_id = ?", (encoded, user_id))
            if cur.rowcount == 0:
                raise KeyError(f"no user {user_id!r}")
