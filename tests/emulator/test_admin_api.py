"""The /_emulator/ admin API over HTTPS, each route observed through exchangelib or the emulator's state."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from exchangelib.errors import ErrorInvalidSyncStateData, ErrorServerBusy, UnauthorizedError

from erp_exchange_plugin.testing.emulator.client import trusting_session

from .conftest import ALICE


@pytest.fixture
def admin(emu: Any) -> Any:
    session = trusting_session(emu.ca_file)

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return session.request(method, f"{emu.admin_url}{path}", **kwargs)

    return call


def test_mailboxes_and_reset(admin: Any, emu: Any, account: Any) -> None:
    assert (
        admin("POST", "/mailboxes", json={"address": "Dora@Example.com", "password": "pw"}).status_code == 201
    )
    assert "dora@example.com" in admin("GET", "/mailboxes").json()
    assert account("dora@example.com").contacts.all().count() == 0
    assert admin("POST", "/reset").status_code == 204
    assert "dora@example.com" not in emu.mailboxes


def test_faults_latency_clock_revocation_and_log(admin: Any, emu: Any, account: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    rule = admin("POST", "/faults", json={"kind": "server_busy", "operation": "FindItem", "back_off_ms": 300})
    assert rule.json()["count"] == 1
    with pytest.raises(ErrorServerBusy):
        acc.contacts.all().count()
    assert admin("POST", "/faults", json={"kind": "bogus"}).status_code == 400
    assert admin("PUT", "/latency", json={"latency_ms": 5}).status_code == 204
    assert emu.faults.latency_ms == 5
    log = admin("GET", "/requests").json()
    assert log["counts"]["FindItem"] == 2
    assert any(e["fault"] == "server_busy" for e in log["entries"])
    assert admin("DELETE", "/requests").status_code == 204
    assert emu.request_log.counts() == {}
    _ = list(acc.contacts.sync_items())
    state = acc.contacts.item_sync_state
    assert admin("POST", f"/mailboxes/{ALICE}/folders/contacts/invalidate-sync-state").status_code == 204
    with pytest.raises(ErrorInvalidSyncStateData):
        list(acc.contacts.sync_items(sync_state=state))
    assert admin("POST", "/clock/advance", json={"seconds": 7200}).status_code == 204
    with pytest.raises(UnauthorizedError):
        account().contacts.all().count()  # the cached token expired on the emulator's clock
    emu.clock.reset()
    assert admin("POST", "/tokens/revoke").status_code == 204
    with pytest.raises(UnauthorizedError):
        account().contacts.all().count()
    assert admin("DELETE", "/faults").status_code == 204
    assert emu.faults.latency_ms == 0


def test_errors_are_json(admin: Any) -> None:
    missing = admin("GET", "/mailboxes/nobody@example.com/folders/contacts/items")
    assert missing.status_code == 404
    assert "error" in missing.json()
    assert (
        admin("PATCH", "/mailboxes/alice@example.com/items/bm9wZQ%3D%3D", json={"fields": {}}).status_code
        == 404
    )
    assert admin("POST", "/mailboxes", data=b"[1]").status_code == 400


def test_user_creates_a_subfolder_and_an_item_in_it(admin: Any, emu: Any, account: Any) -> None:
    created = admin(
        "POST",
        f"/mailboxes/{ALICE}/folders",
        json={"parent": "contacts", "name": "Suppliers", "folder_class": "IPF.Contact"},
    )
    assert created.status_code == 201
    item = admin(
        "POST",
        f"/mailboxes/{ALICE}/folders/contacts%2FSuppliers/items",
        json={"fields": {"DisplayName": "ACME"}},
    )
    assert item.status_code == 201
    suppliers = account().contacts // "Suppliers"
    assert suppliers.id == created.json()["folder_id"]
    assert [c.display_name for c in suppliers.all()] == ["ACME"]
    assert [v.fields["DisplayName"] for v in emu.items(ALICE, "contacts/Suppliers")] == ["ACME"]
    assert admin("GET", f"/mailboxes/{ALICE}/folders/contacts%2FNope/items").status_code == 404
