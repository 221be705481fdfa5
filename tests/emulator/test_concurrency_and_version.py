"""Several threads and mailboxes at once; ConvertId and the version guess; the validating mode itself."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import exchangelib
import pytest
from exchangelib import Contact, Credentials
from exchangelib.errors import MalformedResponseError
from lxml import etree

from erp_exchange_plugin.testing.emulator import operations
from erp_exchange_plugin.testing.emulator.client import connect, trust_ca_in_exchangelib
from erp_exchange_plugin.testing.emulator.server import Emulator

from .conftest import ALICE, BOB, CAROL


def test_threads_and_mailboxes_at_once(account: Any, emu: Any) -> None:
    def work(job: tuple[str, int]) -> int:
        address, worker = job
        acc = account(address, max_connections=2)
        acc.bulk_create(
            acc.contacts,
            [Contact(display_name=f"{worker}-{i}", erp_id=f"{address}-{worker}-{i}") for i in range(20)],
        )
        mine = list(acc.contacts.filter(erp_id__in=[f"{address}-{worker}-{i}" for i in range(20)]))
        for c in mine[:5]:
            c.job_title = "touched"
        acc.bulk_update([(c, ["job_title"]) for c in mine[:5]])
        return len(mine)

    jobs = [(address, w) for address in (ALICE, BOB, CAROL) for w in range(3)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(work, jobs)) == [20] * len(jobs)
    for address in (ALICE, BOB, CAROL):
        items = emu.items(address, "contacts")
        assert len(items) == 60
        assert sum(1 for v in items if v.fields.get("JobTitle") == "touched") == 15


def test_version_guess_through_convert_id(emu: Any) -> None:
    acc = connect(
        CAROL,
        emu.ews_url,
        Credentials(CAROL, emu.password(CAROL)),
        api_version=None,
        access_type=exchangelib.DELEGATE,
    )
    assert acc.version.api_version == "Exchange2016"
    assert acc.version.build.major_version == 15
    assert emu.request_log.count("ConvertId") >= 1
    assert acc.contacts.all().count() == 0


def test_announced_server_version_is_configurable() -> None:
    with Emulator([("dave@example.com", "pw")], api_version="Exchange2013_SP1") as old:
        trust_ca_in_exchangelib(old.ca_file, old.base_url)
        try:
            acc = connect(
                "dave@example.com",
                old.ews_url,
                Credentials("dave@example.com", "pw"),
                api_version=None,
                access_type=exchangelib.DELEGATE,
            )
            assert acc.version.api_version == "Exchange2013_SP1"
            Contact(folder=acc.contacts, display_name="old server").save()
            assert [c.display_name for c in acc.contacts.all()] == ["old server"]
            assert old.validation_errors == []
        finally:
            exchangelib.close_connections()


def test_convert_id_round_trip(app: Any, emu: Any) -> None:
    from exchangelib import Identity
    from exchangelib.properties import AlternateId

    from erp_exchange_plugin.testing.emulator.client import MsalCredentials

    # ConvertId is a protocol-level service: with an app token it impersonates credentials.identity (as EXO)
    acc = connect(ALICE, emu.ews_url, MsalCredentials(app, identity=Identity(primary_smtp_address=ALICE)))
    contact = Contact(folder=acc.contacts, display_name="ids")
    contact.save()
    [entry] = list(
        acc.protocol.convert_ids(
            [AlternateId(id=contact.id, format="EwsId", mailbox=ALICE)], destination_format="HexEntryId"
        )
    )
    [back] = list(
        acc.protocol.convert_ids(
            [AlternateId(id=entry.id, format="HexEntryId", mailbox=ALICE)], destination_format="EwsId"
        )
    )
    assert back.id == contact.id
    assert entry.id != contact.id


def test_validating_mode_fails_loudly_on_an_invalid_response(
    account: Any, emu: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = account()
    acc.contacts.all().count()

    def broken(ctx: Any, op: Any) -> Any:
        root = etree.Element("{http://schemas.microsoft.com/exchange/services/2006/messages}FindItemResponse")
        etree.SubElement(root, "{http://schemas.microsoft.com/exchange/services/2006/messages}Bogus")
        return root

    monkeypatch.setitem(operations.OPERATIONS, "FindItem", broken)
    monkeypatch.setitem(emu.ews.__dict__, "validation_errors", [])
    with pytest.raises(MalformedResponseError, match="EMULATOR BUG"):
        acc.contacts.all().count()
    assert len(emu.ews.validation_errors) == 1


def test_a_stopped_emulator_stops_serving_keep_alive_clients(tmp_path: Path) -> None:
    emu = Emulator([("stop@example.com", "pw")]).start()
    ca_copy = tmp_path / "ca.pem"  # stop() removes the emulator's own files
    shutil.copy(emu.ca_file, ca_copy)
    trust_ca_in_exchangelib(str(ca_copy), emu.base_url)
    try:
        acc = connect(
            "stop@example.com",
            emu.ews_url,
            Credentials("stop@example.com", "pw"),
            access_type=exchangelib.DELEGATE,
        )
        assert acc.contacts.all().count() == 0  # the pooled connection is open now
        emu.stop()
        with pytest.raises(Exception):  # noqa: B017, PT011 - the transport error's class depends on timing
            acc.contacts.all().count()
    finally:
        exchangelib.close_connections()


def test_an_exception_inside_an_operation_fails_loudly(
    account: Any, emu: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = account()
    acc.contacts.all().count()

    def crashing(ctx: Any, op: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setitem(operations.OPERATIONS, "FindItem", crashing)
    monkeypatch.setitem(emu.ews.__dict__, "validation_errors", [])
    with pytest.raises(MalformedResponseError, match="EMULATOR BUG: FindItem failed: RuntimeError"):
        acc.contacts.all().count()
    assert "RuntimeError: boom" in emu.ews.validation_errors[0]
