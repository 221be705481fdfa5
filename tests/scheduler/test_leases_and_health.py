"""Leases and run health on the state database: atomic taking, expiry, renewal, back-off and disable."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from erp_exchange_plugin.errors import MailboxNotFound, ServerError, ThrottledTooLong
from erp_exchange_plugin.scheduler import health
from erp_exchange_plugin.scheduler.leases import acquire
from erp_exchange_plugin.state import StateStore, leases
from erp_exchange_plugin.state import health as rows
from erp_exchange_plugin.state.health import SYNC, RunState
from erp_hookspecs import Alert

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
MIN5 = timedelta(minutes=5)


class Alerts:
    def __init__(self) -> None:
        self.raised: list[Alert] = []

    def raise_alert(self, alert: Alert) -> None:
        self.raised.append(alert)


def store(tmp_path: Path) -> StateStore:
    return StateStore(f"sqlite:///{tmp_path / 'state.sqlite3'}")


def test_a_lease_has_one_holder_until_it_expires(tmp_path: Path) -> None:
    db = store(tmp_path).db
    ttl = timedelta(seconds=30)
    assert leases.take(db, "sync:anna", "a", ttl, T0)
    assert not leases.take(db, "sync:anna", "b", ttl, T0 + timedelta(seconds=29))
    assert leases.take(db, "sync:ben", "b", ttl, T0)
    assert leases.holder_of(db, "sync:anna", T0) == "a"
    assert leases.take(db, "sync:anna", "b", ttl, T0 + timedelta(seconds=30))  # expired: a crashed holder
    assert not leases.renew(db, "sync:anna", "a", ttl, T0 + timedelta(seconds=31))
    leases.release(db, "sync:anna", "a")  # not a's any more: nothing happens
    assert leases.holder_of(db, "sync:anna", T0 + timedelta(seconds=31)) == "b"


def test_many_threads_racing_for_one_lease_get_it_once(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    StateStore(f"sqlite:///{path}").close()
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def race(n: int) -> None:
        db = StateStore(f"sqlite:///{path}").db
        barrier.wait()
        if leases.take(db, "sync:anna", f"h{n}", timedelta(minutes=1), T0):
            winners.append(f"h{n}")
        db.close()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_a_held_lease_is_renewed_in_the_background_and_released_at_the_end(tmp_path: Path) -> None:
    db = store(tmp_path).db
    lease = acquire(db, "sync:anna", ttl=timedelta(milliseconds=90))
    assert lease is not None
    with lease:
        before = db.query("SELECT expires_at FROM leases")[0]["expires_at"]
        waited = threading.Event()
        for _ in range(500):  # poll the row until the renewal thread moved the expiry
            if db.query("SELECT expires_at FROM leases")[0]["expires_at"] != before:
                break
            waited.wait(0.01)
        else:
            raise AssertionError("the lease was never renewed")
        assert acquire(db, "sync:anna") is None
    assert not lease.lost
    assert db.query("SELECT * FROM leases") == []


def test_transient_failures_back_off_exponentially_then_disable_with_one_alert(tmp_path: Path) -> None:
    db = store(tmp_path).db
    alerts = Alerts()
    waits = []
    for n in range(1, 4):
        h = health.failed(db, alerts, "anna", SYNC, T0, MIN5, ServerError("HTTP 503"), disable_after=4)
        assert (h.state, h.failures, h.last_error_code) == (RunState.BACKING_OFF, n, "ews.server_error")
        assert h.next_due_at is not None
        waits.append(h.next_due_at - T0)
    assert waits == [MIN5, 2 * MIN5, 4 * MIN5]
    h = health.failed(db, alerts, "anna", SYNC, T0, MIN5, ServerError("HTTP 503"), disable_after=4)
    assert h.state is RunState.DISABLED
    assert not health.is_due(h, T0 + timedelta(days=9))
    health.failed(db, alerts, "anna", SYNC, T0, MIN5, ServerError("HTTP 503"), disable_after=4)
    assert [a.code for a in alerts.raised] == ["exchange.sync.disabled"]
    assert "4 failures in a row" in alerts.raised[0].message
    assert alerts.raised[0].for_admin


def test_the_servers_back_off_wins_when_longer(tmp_path: Path) -> None:
    db = store(tmp_path).db
    error = ThrottledTooLong("busy", retry_after=3600)
    h = health.failed(db, Alerts(), "anna", SYNC, T0, MIN5, error, disable_after=10)
    assert h.next_due_at == T0 + timedelta(hours=1)


def test_a_permanent_error_disables_at_once_and_enable_brings_it_back(tmp_path: Path) -> None:
    db = store(tmp_path).db
    alerts = Alerts()
    h = health.failed(db, alerts, "anna", SYNC, T0, MIN5, MailboxNotFound("no mailbox x@y"), disable_after=10)
    assert h.state is RunState.DISABLED
    assert h.failures == 1
    assert [a.code for a in alerts.raised] == ["exchange.sync.disabled"]
    assert "a permanent error" in alerts.raised[0].message
    (enabled,) = health.enable(db, "anna")
    assert enabled.state is RunState.OK
    assert health.is_due(rows.get(db, "anna", SYNC), T0)
    ok = health.succeeded(db, "anna", SYNC, T0, MIN5, {"contacts": {}})
    assert ok.next_due_at == T0 + MIN5
    assert ok.last_success_at == T0
    assert ok.last_error_code == "ews.mailbox_not_found"  # the last error stays visible
