"""The deletion guard: a run that would delete too much of one side stops and alerts instead."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeleteGuard:
    """Limits on deletions per run and side.

    :param max_share: The largest share of a side's synced items one run may delete.
    :param min_items: The share rule applies from this many synced items on (below it, small
        address books could not delete two of three contacts).
    :param allow_empty: Let a run delete every synced item of a side (off: such a run stops).
    """

    max_share: float = 0.5
    min_items: int = 10
    allow_empty: bool = False

    def check(self, side: str, deletes: int, total: int) -> str | None:
        """Why deleting ``deletes`` of ``total`` items on ``side`` must stop, or ``None`` when it may go on."""
        if deletes <= 0:
            return None
        if total >= 2 and deletes >= total and not self.allow_empty:
            return f"the run would delete all {total} synced items on the {side} side"
        if total >= self.min_items and deletes > self.max_share * total:
            return (
                f"the run would delete {deletes} of {total} synced items on the {side} side "
                f"({deletes / total:.0%}, more than the allowed {self.max_share:.0%})"
            )
        return None
