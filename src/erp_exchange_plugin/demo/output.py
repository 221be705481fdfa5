"""Readable output for the demo: progress lines and the summary table."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO


class Progress:
    """A progress bar on a terminal, plain start/end lines elsewhere."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        if not self.tty:
            self.stream.write(f"  {label} ...\n")

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units of work."""
        self.done += n
        if self.tty:
            width = 30
            filled = int(width * self.done / self.total)
            self.stream.write(
                f"\r  {self.label:<34} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
            )
            self.stream.flush()

    def finish(self) -> None:
        """End the bar."""
        if self.tty:
            self.stream.write("\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], out: TextIO) -> None:
    """A plain-text table."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = "  " + "-+-".join("-" * w for w in widths) + "\n"
    out.write("  " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)) + "\n")
    out.write(line)
    for row in cells[1:]:
        out.write("  " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + "\n")
