"""``erp-exchange check``: the "Test & Enable" of one user's connection.

Resolves the settings, gets a token (``oauth_app``), connects, and verifies access to the
contacts, calendar, tasks and inbox folders. Every step is reported with what it found or
the typed error and what to do; the exit status is 0 only when every step worked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from erp_exchange_plugin.auth.tokens import TokenProvider
from erp_exchange_plugin.errors import ExchangeError
from erp_exchange_plugin.ews.account import Connection, connect
from erp_exchange_plugin.ews.retry import RetryPolicy
from erp_exchange_plugin.settings import AuthMode, Resolution

FOLDERS = ("contacts", "calendar", "tasks", "inbox")


@dataclass
class Step:
    """One checked step: its name, whether it worked, what was found or what failed."""

    name: str
    ok: bool
    detail: str
    seconds: float
    code: str | None = None
    hint: str | None = None


@dataclass
class CheckReport:
    """All steps of one check."""

    user_id: str
    mailbox: str | None
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Sentences about the surroundings (the host's timer not ticking); they do not fail the check."""

    @property
    def ok(self) -> bool:
        """True when every step worked."""
        return bool(self.steps) and all(s.ok for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "user_id": self.user_id,
            "mailbox": self.mailbox,
            "ok": self.ok,
            "steps": [asdict(s) for s in self.steps],
            "warnings": list(self.warnings),
        }


def _step(report: CheckReport, name: str, fn: Callable[[], str]) -> bool:
    started = time.monotonic()
    try:
        detail = fn()
    except ExchangeError as exc:
        report.steps.append(
            Step(name, False, exc.message, time.monotonic() - started, code=exc.code, hint=exc.hint)
        )
        return False
    report.steps.append(Step(name, True, detail, time.monotonic() - started))
    return True


def run_check(
    resolution: Resolution, tokens: TokenProvider, policy: RetryPolicy | None = None
) -> CheckReport:
    """Check one user's connection; never raises for a connection problem."""
    settings = resolution.settings
    report = CheckReport(user_id=resolution.user_id, mailbox=resolution.effective.get("mailbox"))
    if settings is None:
        detail = "; ".join(f"{e.level} {e.field}: {e.message}" for e in resolution.errors)
        report.steps.append(Step("settings", False, detail, 0.0, code="settings.invalid"))
        return report
    report.steps.append(
        Step("settings", True, f"{settings.auth_mode.value} to {settings.ews_url} as {settings.mailbox}", 0.0)
    )
    policy = policy or RetryPolicy(max_total_wait=60.0)
    if settings.auth_mode is AuthMode.OAUTH_APP:
        ok = _step(report, "token", lambda: _token(tokens, resolution))
        if not ok:
            return report
    holder: list[Connection] = []

    def _connect() -> str:
        holder.append(connect(settings, tokens))
        return "account ready"

    if not _step(report, "connect", _connect):
        return report
    conn = holder[0]
    try:
        for folder in FOLDERS:
            if not _step(report, folder, lambda f=folder: policy.call(conn, lambda: _probe(conn, f))):  # type: ignore[misc]
                break
    finally:
        conn.close()
    return report


def _token(tokens: TokenProvider, resolution: Resolution) -> str:
    assert resolution.settings is not None
    token = tokens.acquire(resolution.settings)
    minutes = max(0, int((token.expires_at - time.time()) / 60))
    return f"app token from {resolution.settings.authority}, valid for {minutes} more minutes"


def _probe(conn: Connection, name: str) -> str:
    folder = getattr(conn.account, name)
    list(folder.all().values_list("id")[:1])
    return f"{folder.name!r} readable, {folder.total_count} items"


def print_report(report: CheckReport, out: TextIO) -> None:
    """Readable report."""
    out.write(f"Checking user {report.user_id} ({report.mailbox or 'no mailbox'})\n")
    for step in report.steps:
        mark = "ok  " if step.ok else "FAIL"
        out.write(f"  [{mark}] {step.name:<9} {step.detail}\n")
        if step.hint:
            out.write(f"         {'':<9} what to do: {step.hint}\n")
    for warning in report.warnings:
        out.write(f"WARNING: {warning}\n")
    out.write("Everything works.\n" if report.ok else "The connection does not work (see FAIL above).\n")
