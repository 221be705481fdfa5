"""FindItem base shapes, full-shape reads of every item kind, CopyItem/drafts, and every announced version."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import exchangelib
import pytest
from exchangelib import CalendarItem, Contact, Credentials, EWSDateTime, EWSTimeZone, Message, Task
from exchangelib.services import FindItem

from erp_exchange_plugin.ews.properties import PROPERTY_SET_ID
from erp_exchange_plugin.testing.emulator.client import connect, trust_ca_in_exchangelib
from erp_exchange_plugin.testing.emulator.server import Emulator

from .conftest import ALICE


def _find(acc: Any, shape: str, folder: Any = None) -> list[Any]:
    return list(
        FindItem(account=acc).call(
            folders=[folder if folder is not None else acc.contacts],
            additional_fields=None,
            restriction=None,
            order_fields=None,
            shape=shape,
            query_string=None,
            depth="Shallow",
            calendar_view=None,
            max_items=None,
            offset=0,
        )
    )


def test_find_item_base_shapes(account: Any, emu: Any) -> None:
    emu.create_item(
        ALICE,
        "contacts",
        {"DisplayName": "Shape", "JobTitle": "Tester"},
        extended={f"{PROPERTY_SET_ID}:ErpId:String": "X"},
    )
    acc = account()
    [id_only] = _find(acc, "IdOnly")
    assert id_only[0]  # (id, changekey)
    [default] = _find(acc, "Default")
    assert default.display_name == "Shape"
    assert default.job_title == "Tester"
    assert default.erp_id is None  # extended properties only when asked for
    [everything] = _find(acc, "AllProperties")
    assert (everything.display_name, everything.job_title) == ("Shape", "Tester")
    assert everything.erp_id is None


def test_find_item_omits_bodies_and_recipient_lists_like_exchange(account: Any, emu: Any) -> None:
    raw = b"From: Ann <ann@example.net>\r\nTo: alice@example.com\r\nSubject: S\r\n\r\nthe body\r\n"
    item_id = emu.deliver(ALICE, raw)
    acc = account()
    [found] = _find(acc, "AllProperties", acc.inbox)
    assert found.subject == "S"
    assert (found.body, found.to_recipients, found.mime_content) == (None, None, None)
    assert found.author.name == "Ann"
    assert found.author.email_address is None  # FindItem returns the display name only
    full = acc.inbox.get(id=item_id)
    assert (full.body.strip(), full.author.email_address) == ("the body", "ann@example.net")
    assert [r.email_address for r in full.to_recipients] == [ALICE]


def test_full_shape_reads_of_every_kind(account: Any) -> None:
    acc = account()
    start = EWSDateTime(2024, 5, 6, 8, 30, tzinfo=EWSTimeZone("UTC"))
    acc.bulk_create(acc.contacts, [Contact(display_name="full", erp_id="C")])
    acc.bulk_create(
        acc.calendar,
        [CalendarItem(subject="full", start=start, end=start + dt.timedelta(hours=2), erp_id="A")],
    )
    acc.bulk_create(
        acc.tasks, [Task(subject="full", status="NotStarted", percent_complete=Decimal(0), erp_id="T")]
    )
    acc.bulk_create(
        acc.drafts, [Message(subject="full", body="draft", to_recipients=["x@example.net"], erp_id="M")]
    )
    for folder in (acc.contacts, acc.calendar, acc.tasks, acc.drafts):
        changes = list(folder.sync_items())  # every field of the folder's item classes, MimeContent included
        assert [(k, o.erp_id) for k, o in changes] == [("create", changes[0][1].erp_id)]
        [fetched] = list(
            acc.fetch([o for _, o in changes])
        )  # no folder: the union of all item classes' fields
        assert fetched.erp_id == changes[0][1].erp_id
    [draft] = list(acc.drafts.all())
    assert draft.is_draft is True
    assert draft.mime_content.startswith(b"Subject: full") or b"Subject: full" in draft.mime_content


def test_copy_item(account: Any, emu: Any) -> None:
    acc = account()
    contact = Contact(folder=acc.contacts, display_name="original")
    contact.save()
    copy_id, _ = contact.copy(to_folder=acc.contacts)
    assert copy_id != contact.id
    assert sorted(v.fields["DisplayName"] for v in emu.items(ALICE, "contacts")) == ["original", "original"]


@pytest.mark.parametrize("version", ["Exchange2010_SP2", "Exchange2013", "Exchange2013_SP1", "Exchange2016"])
def test_each_announced_version_works_with_exchangelib(version: str) -> None:
    with Emulator([("vic@example.com", "pw")], api_version=version) as emu:
        trust_ca_in_exchangelib(emu.ca_file, emu.base_url)
        try:
            acc = connect(
                "vic@example.com",
                emu.ews_url,
                Credentials("vic@example.com", "pw"),
                api_version=None,
                access_type=exchangelib.DELEGATE,
            )
            assert acc.version.api_version == version
            c = Contact(folder=acc.contacts, display_name="v", erp_id="V")
            c.save()
            c.display_name = "v2"
            c.save(update_fields=["display_name"])
            assert [(k, o.display_name) for k, o in acc.contacts.sync_items()] == [("create", "v2")]
            c.delete()
            assert emu.validation_errors == []
        finally:
            exchangelib.close_connections()
