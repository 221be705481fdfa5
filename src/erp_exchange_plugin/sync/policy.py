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
