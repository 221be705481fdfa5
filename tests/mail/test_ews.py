"""Mail fetch over EWS against the emulator: through the plugin's on_mail_fetch, with the user's Exchange settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings
from erp_hookspecs import Mailbox, MailFetchReport

from .conftest import message, wrap

ALICE = "alice@example.com"


@pytest.fixture
def emu(ews_emulator_clean: Emulator) -> Emulator:
    return ews_emulator_clean


@pytest.fixture
def plugin() -> Iterator[ExchangePlugin]:
    instance = ExchangePlugin()
    yield instance
    instance.close()


@pytest.fixture
def erp(tmp_path: Path, emu: Emulator, plugin: ExchangePlugin) -> Iterator[StubHost]:
    with StubHost(tmp_path / "erp", plugins=[plugin], load_entry_points=False) as host:
        host.add_user("anna", "Anna", ALICE)
        host.set_tenant_settings(SECTION, emulator_tenant_settings(emu))
        yield host


def box(**settings: Any) -> Mailbox:
    return Mailbox("anna-ews", "anna", "ews", settings)


def fetch(plugin: ExchangePlugin, host: Any, mailbox: Mailbox | None = None) -> MailFetchReport:
    report = plugin.on_mail_fetch(host, mailbox or box())
    assert report is not None
    return report


def inbox(emu: Emulator) -> list[Any]:
    return emu.items(ALICE, "inbox")


def test_new_mail_is_delivered_once(erp: StubHost, emu: Emulator, plugin: ExchangePlugin) -> None:
    raws = [message(n) for n in range(3)]
    for raw in raws:
        emu.deliver(ALICE, raw)
    report = erp.mail_fetch(box())
    assert report is not None
    assert (report.delivered, report.duplicates, report.errors) == (3, 0, ())
    stored = erp.received_mail(mailbox_id="anna-ews")
    assert sorted(m.raw.split(b"Subject: ")[1].split(b"\r\n")[0] for m in stored) == [
        b"message 0",
        b"message 1",
        b"message 2",
    ]
    emu.request_log.clear()
    again = fetch(plugin, erp)
    assert (again.delivered, again.duplicates) == (0, 0)
    assert emu.request_log.counts() == {"SyncFolderItems": 1}


def test_a_crash_between_delivery_and_checkpoint_loses_nothing(
    erp: StubHost, emu: Emulator, plugin: ExchangePlugin
) -> None:
    for n in range(4):
        emu.deliver(ALICE, message(n))
    crashing = wrap(erp, fail_after={2})
    first = fetch(plugin, crashing)
    assert first.errors
    report = fetch(plugin, erp)
    assert report.errors == ()
    assert len(erp.received_mail(mailbox_id="anna-ews")) == 4
    keys = [m.key for m in erp.received_mail(mailbox_id="anna-ews")]
    assert len(keys) == len(set(keys))


def test_mark_read_happens_only_after_the_host_accepted(
    erp: StubHost, emu: Emulator, plugin: ExchangePlugin
) -> None:
    for n in range(3):
        emu.deliver(ALICE, message(n))
    refusing = wrap(erp, fail_before={2})
    report = fetch(plugin, refusing, box(actions={"mark_read": True}))
    assert report.errors
    read = [v.fields.get("IsRead") for v in inbox(emu)]
    assert read.count("true") == 1
    fetch(plugin, erp, box(actions={"mark_read": True}))
    assert [v.fields.get("IsRead") for v in inbox(emu)] == ["true", "true", "true"]
    assert len(erp.received_mail(mailbox_id="anna-ews")) == 3


def test_delete_moves_accepted_messages_to_deleted_items(
    erp: StubHost, emu: Emulator, plugin: ExchangePlugin
) -> None:
    for n in range(2):
        emu.deliver(ALICE, message(n))
    report = fetch(plugin, erp, box(actions={"delete": True}))
    assert report.delivered == 2
    assert inbox(emu) == []
    assert len(emu.items(ALICE, "deleteditems")) == 2


def test_an_invalid_sync_state_redelivers_nothing(
    erp: StubHost, emu: Emulator, plugin: ExchangePlugin
) -> None:
    for n in range(3):
        emu.deliver(ALICE, message(n))
    fetch(plugin, erp)
    emu.invalidate_sync_state(ALICE, "inbox")
    emu.deliver(ALICE, message(9))
    report = fetch(plugin, erp)
    assert report.delivered == 1
    assert len(erp.received_mail(mailbox_id="anna-ews")) == 4


def test_oversized_and_malformed_messages(erp: StubHost, emu: Emulator, plugin: ExchangePlugin) -> None:
    emu.deliver(ALICE, message(1, size=200_000))
    broken = b"From: x@example.com\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=zzz\r\n\r\nno parts\r\n"
    emu.deliver(ALICE, broken)
    report = fetch(plugin, erp, box(limits={"max_message_bytes": 100_000}))
    assert report.delivered == 1
    assert any("over the limit" in s for s in report.skipped)
    (stored,) = erp.received_mail(mailbox_id="anna-ews")
    assert b"no parts" in stored.raw
    assert stored.warnings
    assert erp.raised_alerts(code="mail.message_too_large")


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"folder": "nowhere"}, "folder"),
        ({"actions": {"move_to": "attic"}}, "actions.move_to"),
        ({"port": 1}, "port"),
    ],
)
def test_bad_mailbox_settings_are_named(
    erp: StubHost, plugin: ExchangePlugin, settings: dict[str, Any], field: str
) -> None:
    report = fetch(plugin, erp, box(**settings))
    assert report.delivered == 0
    assert field in report.errors[0]


def test_invalid_exchange_settings_are_reported_not_raised(erp: StubHost, plugin: ExchangePlugin) -> None:
    erp.set_tenant_settings(SECTION, {})
    report = fetch(plugin, erp)
    assert "Exchange settings invalid" in report.errors[0]
