"""The semantics of the host hooks' specs, through the stub host with test plugins.

These prove what the contract promises hosts (list results, firstresult) independently of
what our plugin implements today.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from erp_exchange_plugin.testing import StubHost
from erp_hookspecs import HostServices, Mailbox, MailFetchReport, TickReport, hookimpl


class CarrierPigeon:
    """Provides the protocol "pigeon" only."""

    @hookimpl
    def on_mail_fetch(self, host: HostServices, mailbox: Mailbox) -> MailFetchReport | None:
        if mailbox.protocol != "pigeon":
            return None
        return MailFetchReport(mailbox_id=mailbox.mailbox_id, delivered=1)


class Smoke:
    """Provides the protocol "smoke" only, and reports on every tick."""

    @hookimpl
    def on_mail_fetch(self, host: HostServices, mailbox: Mailbox) -> MailFetchReport | None:
        if mailbox.protocol != "smoke":
            return None
        return MailFetchReport(mailbox_id=mailbox.mailbox_id, delivered=2)

    @hookimpl
    def on_timer_tick(self, host: HostServices, now: datetime, budget_seconds: float) -> TickReport:
        return TickReport(plugin="smoke", started_at=now, finished_at=now, runs=({"budget": budget_seconds},))


@pytest.fixture
def erp(tmp_path: Path) -> Iterator[StubHost]:
    with StubHost(tmp_path / "erp", plugins=[CarrierPigeon(), Smoke()]) as host:
        host.add_user("anna", "Anna", "anna@contoso.com")
        yield host


def test_hook_on_mail_fetch_is_answered_by_the_provider_of_the_protocol(erp: StubHost) -> None:
    pigeon = erp.mail_fetch(Mailbox("m1", "anna", "pigeon"))
    smoke = erp.mail_fetch(Mailbox("m2", "anna", "smoke"))
    assert pigeon is not None
    assert pigeon.delivered == 1
    assert smoke is not None
    assert smoke.delivered == 2


def test_hook_on_mail_fetch_unknown_protocol_gets_no_answer(erp: StubHost) -> None:
    assert erp.mail_fetch(Mailbox("m3", "anna", "telegraph")) is None
    (call,) = erp.hook_calls("on_mail_fetch")
    assert call.result is None


def test_hook_on_timer_tick_returns_one_report_per_plugin_with_work(erp: StubHost) -> None:
    now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    reports = erp.timer_tick(now=now, budget_seconds=42.0)
    smoke = [r for r in reports if r.plugin == "smoke"]
    assert len(smoke) == 1
    assert smoke[0].runs == ({"budget": 42.0},)
    assert smoke[0].started_at == now
