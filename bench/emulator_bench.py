"""EWS emulator throughput: requests per second for a no-change SyncFolderItems and a GetItem of 100 contacts.

Run: ``uv run python bench/emulator_bench.py [--seconds 3] [--latency-ms 0]``

Each scenario is measured twice, side by side in one run:
* through exchangelib (what the connector's tests see: client CPU included), and
* as raw SOAP over one keep-alive HTTPS connection with ``requests`` (the emulator's own capacity),
plus the emulator's server-side time per request from its request log. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import exchangelib
from exchangelib import Contact

from erp_exchange_plugin.testing.emulator.client import (
    MsalCredentials,
    connect,
    msal_app,
    trust_ca_in_exchangelib,
    trusting_session,
)
from erp_exchange_plugin.testing.emulator.server import Emulator

ADDRESS = "bench@example.com"
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
    'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
    '<s:Header><t:RequestServerVersion Version="Exchange2016"/>'
    f"<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{ADDRESS}</t:PrimarySmtpAddress>"
    "</t:ConnectingSID></t:ExchangeImpersonation></s:Header><s:Body>{body}</s:Body></s:Envelope>"
)
SHAPE = (
    "<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
    '<t:FieldURI FieldURI="contacts:DisplayName"/><t:FieldURI FieldURI="item:LastModifiedTime"/>'
    "</t:AdditionalProperties></m:ItemShape>"
)


def measure(fn: Callable[[], None], seconds: float) -> tuple[int, float]:
    """Call ``fn`` repeatedly for about ``seconds``; return (calls, wall time)."""
    fn()  # warm up
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn()
        calls += 1
    return calls, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    with Emulator([(ADDRESS, "pw")], latency_ms=args.latency_ms) as emu:
        trust_ca_in_exchangelib(emu.ca_file, emu.base_url)
        app = msal_app(emu.authority, emu.client_id, emu.client_secret, emu.ca_file)
        credentials = MsalCredentials(app)
        acc = connect(ADDRESS, emu.ews_url, credentials)
        acc.bulk_create(
            acc.contacts, [Contact(display_name=f"Bench {i:03d}", given_name="B") for i in range(100)]
        )
        contacts = list(acc.contacts.all())
        fields = ["display_name", "last_modified_time"]
        list(acc.contacts.sync_items(only_fields=fields, max_changes_returned=512))
        state = acc.contacts.item_sync_state

        def sync_exchangelib() -> None:
            assert list(acc.contacts.sync_items(sync_state=state, only_fields=fields)) == []

        def get_exchangelib() -> None:
            assert len(list(acc.fetch(contacts))) == 100

        session = trusting_session(emu.ca_file)
        token = app.acquire_token_for_client(scopes=["https://outlook.office365.com/.default"])[
            "access_token"
        ]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/xml; charset=utf-8"}
        sync_body = ENVELOPE.format(
            body=f'<m:SyncFolderItems>{SHAPE}<m:SyncFolderId><t:DistinguishedFolderId Id="contacts"/>'
            f"</m:SyncFolderId><m:SyncState>{state}</m:SyncState>"
            "<m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>"
        ).encode()
        ids = "".join(f'<t:ItemId Id="{c.id}"/>' for c in contacts)
        get_body = ENVELOPE.format(
            body=f"<m:GetItem>{SHAPE.replace('IdOnly', 'AllProperties')}"
            f"<m:ItemIds>{ids}</m:ItemIds></m:GetItem>"
        ).encode()

        def raw(body: bytes) -> Callable[[], None]:
            def call() -> None:
                response = session.post(emu.ews_url, data=body, headers=headers)
                assert response.status_code == 200, response.text[:300]

            return call

        rows = []
        for name, operation, fn in (
            ("SyncFolderItems, no change (exchangelib)", "SyncFolderItems", sync_exchangelib),
            ("SyncFolderItems, no change (raw SOAP)", "SyncFolderItems", raw(sync_body)),
            ("GetItem x100 contacts (exchangelib)", "GetItem", get_exchangelib),
            ("GetItem x100 contacts (raw SOAP)", "GetItem", raw(get_body)),
        ):
            emu.request_log.clear()
            calls, wall = measure(fn, args.seconds)
            server = [e.duration_ms for e in emu.request_log.entries() if e.operation == operation]
            rows.append(
                (name, calls, calls / wall, statistics.median(server), 1000 / statistics.median(server))
            )
        exchangelib.close_connections()
        assert emu.validation_errors == []
    print(
        f"EWS emulator, {args.seconds:g} s per scenario, latency {args.latency_ms:g} ms, "
        "schema validation on\n"
    )
    print("| scenario | requests | req/s (client incl.) | server ms/req (median) | server-bound req/s |")
    print("|---|---:|---:|---:|---:|")
    for name, calls, rate, median_ms, bound in rows:
        print(f"| {name} | {calls} | {rate:.0f} | {median_ms:.2f} | {bound:.0f} |")


if __name__ == "__main__":
    main()
