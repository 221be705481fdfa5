"""The plugin's own state: one database (SQLite by default) with versioned migrations.

- :mod:`.database`: connections from the host's database URL, transactions, portable SQL;
- :mod:`.migrations`: the schema, one numbered migration at a time;
- :mod:`.store`: :class:`StateStore`, the access layer the sync engine, mail fetch and
  scheduler use.
"""

from erp_exchange_plugin.state.database import Database
from erp_exchange_plugin.state.store import Cursor, JournalEntry, Pair, StateStore

__all__ = ["Cursor", "Database", "JournalEntry", "Pair", "StateStore"]
