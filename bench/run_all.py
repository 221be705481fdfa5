"""Run every benchmark of bench/ and write bench/RESULTS.md (the tables) beside their JSON in bench/results/.

Each benchmark prints Markdown tables with ratios measured side by side in one run and writes its JSON to
bench/results/; this runner runs them one after the other (never in parallel: they measure CPU and wall
time), notes the machine, and collects their tables into one page.

    uv run --group bench python bench/run_all.py            # everything (about 30 minutes)
    uv run --group bench python bench/run_all.py --quick    # smaller sizes, one round (a few minutes)

The mail benchmark needs Dovecot (``scripts/system-packages.txt``) and root; getmail6 comes with the
``bench`` dependency group.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    ("EWS emulator throughput", ["emulator_bench.py"], ["--seconds", "1"]),
    ("Sync engine (issue 5)", ["sync_bench.py"], ["--quick"]),
    (
        "Mail over IMAP and POP3 (issue 7)",
        ["mail_bench.py"],
        ["--messages", "1000", "--rounds", "1", "--no-getmail"],
    ),
    ("Mail over EWS (issue 7)", ["ews_mail_bench.py"], ["--messages", "200", "--rounds", "1"]),
]
"""(title, script, extra arguments for --quick)."""


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()} "
        f"{platform.release()}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )


def tables(output: str) -> str:
    """The Markdown lines of a benchmark's output (tables, headings, verdict lines)."""
    keep = [line for line in output.splitlines() if line.startswith(("|", "#", "- ", "EWS ", "Sync", "Mail"))]
    return "\n".join(keep)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one round")
    args = parser.parse_args()
    sections = [
        "# Benchmark results\n",
        f"Machine: {machine()}. Produced by `python bench/run_all.py{' --quick' if args.quick else ''}`; "
        "every ratio was measured side by side in one run. The raw figures are in `bench/results/`.\n",
    ]
    failed = False
    for title, script, quick in BENCHMARKS:
        command = [sys.executable, str(HERE / script[0]), *(quick if args.quick else [])]
        print(f"== {title}: {' '.join(command[1:])}", flush=True)
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=HERE.parent)
        sections.append(f"## {title}\n\n`{' '.join(['python', 'bench/' + script[0], *command[2:]])}`\n")
        if done.returncode != 0:
            failed = True
            sections.append(f"FAILED (exit {done.returncode}):\n\n```\n{done.stderr[-2000:]}\n```\n")
        else:
            sections.append(tables(done.stdout) + "\n")
    (HERE / "RESULTS.md").write_text("\n".join(sections))
    print(f"written: {HERE / 'RESULTS.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
