"""Conflict policies: who wins when both sides changed an item to different content."""

from __future__ import annotations

import enum
from datetime import datetime


class ConflictPolicy(enum.StrEnum):
    """How a conflict (both sides changed since the last sync, to different content) is resolved.

    Every decision is logged and counted in the run's report.
    """

    ERP_WINS = "erp_wins"
    EXCHANGE_WINS = "exchange_wins"
    NEWEST_WINS = "newest_wins"
    """The side modified last wins (ERP ``modified_at`` vs Exchange ``LastModifiedTime``); a tie or a
    missing time goes to the ERP, the system of record. The default."""


DEFAULT_POLICY = ConflictPolicy.NEWEST_WINS


class Direction(enum.StrEnum):
    """Which way an item type syncs.

    One-way sync copies the source side's creations, edits and deletions to the target side; what
    is edited or deleted on the target side is left alone (never copied back) until the source
    changes the item again, whose version then wins.
    """

    BOTH = "both"
    ERP_TO_EXCHANGE = "erp_to_exchange"
    EXCHANGE_TO_ERP = "exchange_to_erp"


ERP = "erp"
EXCHANGE = "exchange"


def winner(policy: ConflictPolicy, erp_modified: datetime | None, exchange_modified: datetime | None) -> str:
    """``"erp"`` or ``"exchange"``."""
    if policy is ConflictPolicy.ERP_WINS:
        return ERP
    if policy is ConflictPolicy.EXCHANGE_WINS:
        return EXCHANGE
    if erp_modified is None or exchange_modified is None:
        return ERP
    return EXCHANGE if exchange_modified > erp_modified else ERP
