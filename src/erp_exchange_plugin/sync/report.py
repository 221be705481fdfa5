"""What one sync run did, per direction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Counts:
    """Writes to one side."""

    created: int = 0
    updated: int = 0
    deleted: int = 0


@dataclass
class RunReport:
    """One run for one user and item type.

    :param to_exchange: Writes made to Exchange.
    :param to_erp: Writes made to the ERP.
    :param conflicts: One sentence per conflict decision.
    :param errors: One sentence per item or step that failed; the rest of the run went on.
    :param stopped: Why the run stopped early (the deletion guard, a foreign installation), if it did.
    :param requests: EWS requests the run sent (retries included).
    :param full_resync: The stored sync state was invalid and everything was matched again.
    :param recovered: Items a crashed run had written, adopted instead of written again.
    """

    user_id: str
    item_type: str
    to_exchange: Counts = field(default_factory=Counts)
    to_erp: Counts = field(default_factory=Counts)
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None
    requests: int = 0
    full_resync: bool = False
    recovered: int = 0

    @property
    def ok(self) -> bool:
        """No error and not stopped."""
        return not self.errors and self.stopped is None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**asdict(self), "ok": self.ok}
