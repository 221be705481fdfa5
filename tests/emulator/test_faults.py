"""Injected faults and latency, seen through exchangelib: throttling, HTTP errors, dropped connections."""

from __future__ import annotations

import time
from typing import Any

import pytest
from exchangelib import Contact, FaultTolerance
from exchangelib.errors import ErrorServerBusy, ErrorTimeoutExpired

from .conftest import ALICE


def test_server_busy_fault_carries_back_off(account: Any, emu: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.inject("server_busy", operation="FindItem", count=1, back_off_ms=250)
    with pytest.raises(ErrorServerBusy) as info:
        acc.contacts.all().count()
    assert info.value.back_off == 0.25
    assert acc.contacts.all().count() == 0  # only the next request was throttled


def test_fault_tolerance_honours_back_off_and_succeeds(account: Any, emu: Any) -> None:
    acc = account(retry_policy=FaultTolerance(max_wait=10))
    acc.contacts.all().count()
    emu.inject("server_busy", operation="FindItem", count=2, back_off_ms=100)
    before = emu.request_log.count("FindItem")
    started = time.monotonic()
    assert acc.contacts.all().count() == 0
    assert time.monotonic() - started >= 0.2
    assert emu.request_log.count("FindItem") - before == 3


def test_throttling_a_share_of_requests(account: Any, emu: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.inject("server_busy", operation="FindItem", count=None, share=0.5)
    failures = 0
    for _ in range(20):
        try:
            acc.contacts.all().count()
        except ErrorServerBusy:
            failures += 1
    assert 2 <= failures <= 18


@pytest.mark.parametrize("kind", ["http_500", "http_503"])
def test_http_errors(account: Any, emu: Any, kind: str) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.inject(kind, operation="FindItem")
    # exchangelib maps both to ErrorInternalServerTransientError and, under FailFast, re-raises it as busy
    with pytest.raises(ErrorServerBusy, match="Reraised from ErrorInternalServerTransientError"):
        acc.contacts.all().count()


def test_dropped_connection_before_apply_loses_the_write(account: Any, emu: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.inject("drop_before", operation="CreateItem")
    # exchangelib (pool size 1) reports a dropped connection as ErrorTimeoutExpired and does not retry it
    with pytest.raises(ErrorTimeoutExpired, match="Reraised from ConnectionError"):
        Contact(folder=acc.contacts, display_name="lost", erp_id="ERP-LOST").save()
    assert emu.items(ALICE, "contacts") == []


def test_dropped_connection_after_apply_keeps_the_write(account: Any, emu: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.inject("drop_after", operation="CreateItem")
    with pytest.raises(ErrorTimeoutExpired, match="Reraised from ConnectionError"):
        Contact(folder=acc.contacts, display_name="applied", erp_id="ERP-7").save()
    found = list(account().contacts.filter(erp_id="ERP-7"))
    assert [c.display_name for c in found] == ["applied"]
    [entry] = [e for e in emu.request_log.entries() if e.operation == "CreateItem"]
    assert entry.fault == "drop_after"


def test_latency(account: Any, emu: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.set_latency(80, jitter_ms=20)
    started = time.monotonic()
    acc.contacts.all().count()
    assert time.monotonic() - started >= 0.08
    assert [e for e in emu.request_log.entries() if e.operation == "FindItem"][-1].duration_ms >= 80


def test_malformed_xml_applies_nothing_and_fails_to_parse(account: Any, emu: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.inject("malformed_xml", operation="CreateItem")
    # the connector's transport refuses a body that is no complete SOAP envelope before exchangelib parses it
    with pytest.raises(Exception, match=r"(?i)xml|pars|malformed|envelope"):
        Contact(folder=acc.contacts, display_name="never", erp_id="ERP-8").save()
    assert emu.items(ALICE, "contacts") == []


def test_truncated_xml_applies_the_write_and_answers_half_a_response(account: Any, emu: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.inject("truncated_xml", operation="CreateItem")
    with pytest.raises(Exception, match=r"(?i)xml|pars|malformed|truncat"):
        Contact(folder=acc.contacts, display_name="applied", erp_id="ERP-9").save()
    assert [v.fields["DisplayName"] for v in emu.items(ALICE, "contacts")] == ["applied"]
    [entry] = [e for e in emu.request_log.entries() if e.operation == "CreateItem"]
    assert entry.fault == "truncated_xml"


def test_slow_fault_delays_then_applies(account: Any, emu: Any) -> None:
    acc = account()
    acc.contacts.all().count()
    emu.inject("slow", operation="CreateItem", delay_ms=200)
    started = time.monotonic()
    Contact(folder=acc.contacts, display_name="late", erp_id="ERP-10").save()
    assert time.monotonic() - started >= 0.2
    assert [v.fields["DisplayName"] for v in emu.items(ALICE, "contacts")] == ["late"]
