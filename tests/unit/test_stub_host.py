"""The stub host as a whole: contract conformance, users, settings, mail, alerts, hook calls,
state locations, threads, persistence and the pytest fixture."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pluggy
import pytest

from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.stub_host import DATABASE_NAME
from erp_hookspecs import (
    Alert,
    Alerts,
    Delivery,
    FieldError,
    HostServices,
    InboundMessage,
    Mailbox,
    MailFetchReport,
    MailSink,
    RecordNotFound,
    RecordStore,
    SettingsResult,
    SettingsSource,
    Severity,
    TickReport,
    User,
    UserDirectory,
    hookimpl,
)

from .conftest import FakeClock

# -- test plugins -------------------------------------------------------------------------------


class IntervalPlugin:
    """Owns the settings section "mine": ``interval`` must be a positive int, default 5."""

    @hookimpl
    def on_user_settings_load(
        self, host: HostServices, user_id: str, proposed: Mapping[str, Mapping[str, Any]] | None
    ) -> SettingsResult:
        if proposed is not None and "mine" in proposed:
            raw = proposed["mine"]
        else:
            raw = host.settings.user_section(user_id, "mine")
        interval = raw.get("interval", host.settings.tenant_section("mine").get("interval", 5))
        errors: tuple[FieldError, ...] = ()
        if not isinstance(interval, int) or interval <= 0:
            errors = (FieldError("interval", "user", "interval must be a positive number of minutes"),)
        return SettingsResult(
            section="mine", user_id=user_id, effective={"interval": interval}, errors=errors
        )

    @hookimpl
    def on_timer_tick(self, host: HostServices, now: datetime, budget_seconds: float) -> TickReport:
        runs = tuple({"user": u.user_id} for u in host.users.with_feature("mine"))
        return TickReport(plugin="interval", started_at=now, finished_at=now, runs=runs)


class PigeonMail:
    """Provides the mail protocol "pigeon": delivers the mailbox's settings["messages"]."""

    @hookimpl
    def on_mail_fetch(self, host: HostServices, mailbox: Mailbox) -> MailFetchReport | None:
        if mailbox.protocol != "pigeon":
            return None
        delivered = duplicates = 0
        for key, raw in mailbox.settings["messages"]:
            message = InboundMessage(key=key, user_id=mailbox.user_id, mailbox_id=mailbox.mailbox_id, raw=raw)
            if host.mail_sink.deliver(message) is Delivery.ACCEPTED:
                delivered += 1
            else:
                duplicates += 1
        return MailFetchReport(mailbox_id=mailbox.mailbox_id, delivered=delivered, duplicates=duplicates)


class BrokenTick:
    """A plugin whose timer hook raises."""

    @hookimpl
    def on_timer_tick(self, host: HostServices, now: datetime) -> TickReport:
        raise RuntimeError("the broken plugin broke")


# -- the contract -------------------------------------------------------------------------------


def test_stub_host_satisfies_every_protocol_at_run_time(host: StubHost) -> None:
    assert isinstance(host, HostServices)
    assert isinstance(host.users, UserDirectory)
    assert isinstance(host.settings, SettingsSource)
    assert isinstance(host.records("address", "u1"), RecordStore)
    assert isinstance(host.mail_sink, MailSink)
    assert isinstance(host.alerts, Alerts)


def test_stub_host_satisfies_every_protocol_for_mypy(host: StubHost) -> None:
    # Checked statically by ``uv run mypy src hookspecs/src tests`` (and by
    # test_stub_host_typing.py, which runs mypy); the asserts only keep the names used.
    services: HostServices = host
    users: UserDirectory = host.users
    settings: SettingsSource = host.settings
    records: RecordStore = host.records("task", "u1")
    sink: MailSink = host.mail_sink
    alerts: Alerts = host.alerts
    assert all(x is not None for x in (services, users, settings, records, sink, alerts))


# -- users ----------------------------------------------------------------------------------


def test_users_and_features(host: StubHost) -> None:
    host.add_user("u0", "Zero", features=("exchange", "mine"))
    host.add_user("u3", "Three", features=())
    assert [u.user_id for u in host.users.with_feature("exchange")] == ["u0", "u1", "u2"]
    assert host.users.with_feature("mine") == [User("u0", "Zero")]
    assert host.users.get("u1") == User("u1", "Ursula One", "u1@example.com")
    assert host.users.get("nobody") is None

    host.set_user_features("u1", [])
    assert [u.user_id for u in host.users.with_feature("exchange")] == ["u0", "u2"]
    assert host.users.features("u0") == {"exchange", "mine"}
    with pytest.raises(ValueError, match="exists already"):
        host.add_user("u1", "Again")
    with pytest.raises(KeyError):
        host.set_user_features("nobody", ["exchange"])
    with pytest.raises(TypeError, match="one string"):
        host.add_user("u4", "Four", features="exchange")


# -- settings -------------------------------------------------------------------------------


def test_raw_settings_are_stored_per_section_and_read_as_copies(host: StubHost) -> None:
    assert host.settings.tenant_section("exchange") == {}
    assert host.settings.user_section("u1", "exchange") == {}

    host.set_tenant_settings("exchange", {"client_id": "abc", "nested": {"a": [1, 2]}})
    host.set_user_settings("u1", "exchange", {"mailbox": "not an address"})
    host.set_user_settings("u1", "other", {"x": 1})

    tenant = host.settings.tenant_section("exchange")
    assert tenant == {"client_id": "abc", "nested": {"a": [1, 2]}}
    assert isinstance(tenant, dict)
    tenant["client_id"] = "changed by the caller"
    assert host.settings.tenant_section("exchange")["client_id"] == "abc"
    assert host.settings.user_section("u1", "exchange") == {"mailbox": "not an address"}
    assert host.settings.user_section("u2", "exchange") == {}

    host.set_user_settings("u1", "exchange", {})
    assert host.settings.user_section("u1", "exchange") == {}
    with pytest.raises(KeyError):
        host.set_user_settings("nobody", "exchange", {})
    with pytest.raises(TypeError, match="JSON"):
        host.set_tenant_settings("exchange", {"when": datetime.now(UTC)})


@pytest.fixture
def settings_host(tmp_path: Path) -> StubHost:
    h = StubHost(tmp_path / "erp", plugins=[IntervalPlugin()], load_entry_points=False)
    h.add_user("u1", "Ursula")
    h.set_user_settings("u1", "mine", {"interval": 10})
    return h


def test_save_user_settings_stores_valid_values(settings_host: StubHost) -> None:
    with settings_host as host:
        results = host.save_user_settings("u1", "mine", {"interval": 15})
        assert [(r.section, r.ok) for r in results] == [("mine", True)]
        assert host.settings.user_section("u1", "mine") == {"interval": 15}
        assert host.user_settings_load("u1")[0].effective == {"interval": 15}


def test_save_user_settings_stores_nothing_when_invalid(settings_host: StubHost) -> None:
    with settings_host as host:
        results = host.save_user_settings("u1", "mine", {"interval": -1})
        assert len(results) == 1
        assert not results[0].ok
        assert results[0].errors[0].field == "interval"
        assert host.settings.user_section("u1", "mine") == {"interval": 10}


def test_save_user_settings_stores_nothing_when_no_plugin_owns_the_section(settings_host: StubHost) -> None:
    with settings_host as host:
        results = host.save_user_settings("u1", "unclaimed", {"anything": 1})
        assert [r.section for r in results] == ["mine"]
        assert host.settings.user_section("u1", "unclaimed") == {}
        with pytest.raises(KeyError):
            host.save_user_settings("nobody", "mine", {"interval": 1})


# -- mail -----------------------------------------------------------------------------------


def _message(
    key: str, user_id: str = "u1", mailbox_id: str = "mb1", raw: bytes = b"Subject: hi\r\n\r\nhi"
) -> InboundMessage:
    return InboundMessage(key=key, user_id=user_id, mailbox_id=mailbox_id, raw=raw)


def test_mail_sink_is_idempotent_by_key(host: StubHost) -> None:
    received_at = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    first = InboundMessage(
        key="k1", user_id="u1", mailbox_id="mb1", raw=b"\x00raw", received_at=received_at, warnings=("odd",)
    )
    assert host.mail_sink.deliver(first) is Delivery.ACCEPTED
    assert host.mail_sink.deliver(first) is Delivery.DUPLICATE
    assert host.mail_sink.deliver(_message("k1", raw=b"other bytes")) is Delivery.DUPLICATE
    assert host.mail_sink.deliver(_message("k2", user_id="u2", mailbox_id="mb2")) is Delivery.ACCEPTED

    mail = host.received_mail()
    assert [m.key for m in mail] == ["k1", "k2"]
    assert mail[0].raw == b"\x00raw"
    assert mail[0].received_at == received_at
    assert mail[0].warnings == ("odd",)
    assert mail[0].delivered_at.tzinfo is not None
    assert [m.key for m in host.received_mail(user_id="u2")] == ["k2"]
    assert [m.key for m in host.received_mail(mailbox_id="mb1")] == ["k1"]
    with pytest.raises(ValueError, match="key"):
        host.mail_sink.deliver(_message(""))


def test_delivered_mail_is_committed_when_deliver_returns(host: StubHost) -> None:
    host.mail_sink.deliver(_message("k1"))
    # Another connection sees the row at once: it is committed, not pending in a transaction.
    other = sqlite3.connect(host.database_path)
    try:
        assert other.execute("SELECT key FROM received_mail").fetchall() == [("k1",)]
    finally:
        other.close()


def test_mail_fetch_reaches_the_plugin_that_provides_the_protocol(tmp_path: Path) -> None:
    with StubHost(tmp_path, plugins=[PigeonMail()], load_entry_points=False) as host:
        assert host.mail_fetch(Mailbox("mb9", "u1", "imap")) is None
        box = Mailbox("mb1", "u1", "pigeon", {"messages": [("a", b"A"), ("b", b"B")]})
        assert host.mail_fetch(box) == MailFetchReport(mailbox_id="mb1", delivered=2)
        assert host.mail_fetch(box) == MailFetchReport(mailbox_id="mb1", duplicates=2)
        assert [m.raw for m in host.received_mail()] == [b"A", b"B"]


# -- alerts ---------------------------------------------------------------------------------


def test_alerts_are_stored(host: StubHost) -> None:
    user_alert = Alert(code="x.warn", message="check your mailbox", user_id="u1")
    admin_alert = Alert(
        code="x.secret", message="the secret expired", severity=Severity.ERROR, for_admin=True
    )
    host.alerts.raise_alert(user_alert)
    host.alerts.raise_alert(admin_alert)
    assert host.raised_alerts() == [user_alert, admin_alert]
    assert host.raised_alerts(user_id="u1") == [user_alert]
    assert host.raised_alerts(code="x.secret") == [admin_alert]


# -- state location -------------------------------------------------------------------------


def test_state_location_is_a_private_directory_with_a_sqlite_url(host: StubHost) -> None:
    location = host.state_location("exchange")
    assert location.directory == host.directory / "plugins" / "exchange"
    assert location.directory.is_dir()
    assert location.database_url == f"sqlite:///{location.directory}/state.sqlite3"
    assert location.database_url.startswith("sqlite:////")
    assert host.state_location("exchange") == location
    assert host.state_location("other").directory != location.directory
    for bad in ("", "..", "a/b", "../x", "."):
        with pytest.raises(ValueError, match="plugin name"):
            host.state_location(bad)


# -- hook calls -----------------------------------------------------------------------------


def test_every_hook_call_is_recorded_without_host(tmp_path: Path, clock: FakeClock) -> None:
    with StubHost(tmp_path, plugins=[IntervalPlugin()], load_entry_points=False, clock=clock) as host:
        host.add_user("u1", "Ursula", features=["mine"])
        now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
        reports = host.timer_tick(now=now, budget_seconds=5.0)
        host.user_settings_load("u1", {"mine": {"interval": 3, "client_secret": "s3cr3t-canary"}})
        host.plugin_manager.hook.on_mail_fetch(host=host, mailbox=Mailbox("mb", "u1", "pop3"))

        calls = host.hook_calls()
        assert [c.name for c in calls] == ["on_timer_tick", "on_user_settings_load", "on_mail_fetch"]
        tick = calls[0]
        assert tick.arguments == {"now": "2026-11-01T12:00:00+00:00", "budget_seconds": 5.0}
        assert tick.exception is None
        assert tick.result == [
            {
                "__type__": "TickReport",
                "plugin": "interval",
                "started_at": now.isoformat(),
                "finished_at": now.isoformat(),
                "runs": [{"user": "u1"}],
                "errors": [],
            }
        ]
        assert reports[0].runs == ({"user": "u1"},)
        assert tick.plugins == ("IntervalPlugin",)
        assert tick.started_at.tzinfo is not None
        assert tick.duration >= 0

        settings_call = host.hook_calls("on_user_settings_load")
        assert len(settings_call) == 1
        assert settings_call[0].arguments["user_id"] == "u1"
        assert settings_call[0].arguments["proposed"] == {"mine": {"interval": 3, "client_secret": "***"}}
        assert calls[2].plugins == ()
        assert calls[2].result is None
        assert "host" not in calls[2].arguments
        assert b"s3cr3t-canary" not in host.database_path.read_bytes()
        assert all(b"s3cr3t-canary" not in p.read_bytes() for p in host.directory.glob("erp.sqlite3*"))


def test_a_hook_that_raises_is_recorded_and_the_error_reaches_the_caller(tmp_path: Path) -> None:
    with StubHost(tmp_path, plugins=[BrokenTick()], load_entry_points=False) as host:
        with pytest.raises(RuntimeError, match="the broken plugin broke"):
            host.timer_tick()
        (call,) = host.hook_calls("on_timer_tick")
        assert call.exception == "RuntimeError: the broken plugin broke"
        assert call.result is None


def test_hook_calls_name_the_plugins_in_call_order(tmp_path: Path) -> None:
    plugins = [IntervalPlugin(), PigeonMail(), IntervalPlugin()]
    with StubHost(tmp_path, plugins=plugins, load_entry_points=False) as host:
        host.timer_tick()
        (call,) = host.hook_calls("on_timer_tick")
        # pluggy calls the last registered first.
        assert call.plugins == ("IntervalPlugin#2", "IntervalPlugin")
        assert len(call.result) == 2


def test_nested_hook_calls_are_each_recorded(tmp_path: Path) -> None:
    class Nested:
        @hookimpl
        def on_timer_tick(self, host: HostServices, now: datetime) -> TickReport:
            assert isinstance(host, StubHost)
            host.mail_fetch(Mailbox("mb", "u1", "none"))
            return TickReport(plugin="nested", started_at=now, finished_at=now)

    with StubHost(tmp_path, plugins=[Nested()], load_entry_points=False) as host:
        host.timer_tick()
        # Recorded when they finish: the inner call first.
        assert [c.name for c in host.hook_calls()] == ["on_mail_fetch", "on_timer_tick"]
        inner, outer = host.hook_calls()
        assert outer.started_at <= inner.started_at


def test_timer_tick_rejects_a_naive_now(host: StubHost) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        host.timer_tick(now=datetime(2026, 11, 1, 12, 0))
    assert host.hook_calls() == []


# -- threads --------------------------------------------------------------------------------


def test_many_threads_write_through_one_host(host: StubHost) -> None:
    threads_count, per_thread = 8, 25
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            own = host.records("address", "u1")
            for i in range(per_thread):
                record = own.put(None, {"thread": n, "i": i}, None)
                own.put(record.record_id, {"thread": n, "i": i, "again": True}, record.version)
                host.mail_sink.deliver(_message(f"shared-{i}"))
                host.mail_sink.deliver(_message(f"t{n}-{i}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []

    page = host.records("address", "u1").changes_since(None, limit=10_000)
    assert len(page.changes) == threads_count * per_thread
    assert all(c.record is not None and c.record.fields["again"] for c in page.changes)
    assert len({c.record_id for c in page.changes}) == threads_count * per_thread
    assert len(host.received_mail()) == per_thread + threads_count * per_thread


def test_racing_writers_with_the_same_version_one_wins(host: StubHost) -> None:
    store = host.records("task", "u1")
    record = store.put(None, {"n": 0}, None)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        barrier.wait()
        try:
            host.records("task", "u1").put(record.record_id, {"n": n}, record.version)
            result = "won"
        except Exception as exc:
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(1, threads_count + 1)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(outcomes) == ["VersionConflict"] * (threads_count - 1) + ["won"]


# -- persistence and lifecycle ----------------------------------------------------------------


def test_everything_survives_a_reopen(tmp_path: Path) -> None:
    with StubHost(tmp_path, plugins=[IntervalPlugin()], load_entry_points=False) as first:
        first.add_user("u1", "Ursula")
        first.set_tenant_settings("mine", {"interval": 7})
        first.set_user_settings("u1", "mine", {"interval": 9})
        store = first.records("address", "u1")
        kept = store.put(None, {"name": "kept", "when": datetime(2026, 1, 1, tzinfo=UTC)}, None)
        cursor = store.changes_since(None).cursor
        first.mail_sink.deliver(_message("k1"))
        first.alerts.raise_alert(Alert(code="c", message="m"))
        first.timer_tick()
        location = first.state_location("mine")
        (location.directory / "marker").write_text("x")

    with StubHost(tmp_path, load_entry_points=False) as second:
        assert second.users.get("u1") == User("u1", "Ursula")
        assert second.settings.tenant_section("mine") == {"interval": 7}
        assert second.settings.user_section("u1", "mine") == {"interval": 9}
        store2 = second.records("address", "u1")
        assert store2.get(kept.record_id) == kept
        assert store2.changes_since(cursor).changes == ()
        newer = store2.put(kept.record_id, {"name": "newer"}, kept.version)
        assert [c.record for c in store2.changes_since(cursor).changes] == [newer]
        assert second.mail_sink.deliver(_message("k1")) is Delivery.DUPLICATE
        assert second.raised_alerts() == [Alert(code="c", message="m")]
        assert [c.name for c in second.hook_calls()] == ["on_timer_tick"]
        assert (second.state_location("mine").directory / "marker").read_text() == "x"


def test_the_database_is_in_wal_mode(host: StubHost) -> None:
    assert host.database_path == host.directory / DATABASE_NAME
    other = sqlite3.connect(host.database_path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        other.close()


def test_close_is_idempotent_and_final(tmp_path: Path) -> None:
    host = StubHost(tmp_path, load_entry_points=False)
    with host as entered:
        assert entered is host
        assert "open" in repr(host)
    assert "closed" in repr(host)
    host.close()
    with pytest.raises(sqlite3.ProgrammingError):
        host.users.get("u1")


def test_a_failing_constructor_closes_the_database(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="no-such-entry-point"):
        StubHost(tmp_path, load_entry_points=["no-such-entry-point"])
    with pytest.raises(TypeError, match="collection of names"):
        StubHost(tmp_path, load_entry_points="exchange")  # a str is a Collection[str] to mypy


def test_a_misspelt_hook_is_an_error(tmp_path: Path) -> None:
    class Typo:
        @hookimpl
        def on_timer_tik(self, now: datetime) -> None:
            return None

    class WrongParameter:
        @hookimpl
        def on_timer_tick(self, when: datetime) -> None:
            return None

    for plugin in (Typo(), WrongParameter()):
        with pytest.raises(pluggy.PluginValidationError):
            StubHost(tmp_path, plugins=[plugin], load_entry_points=False)


# -- the pytest fixture ---------------------------------------------------------------------


def test_the_stub_host_fixture_gives_a_fresh_host(stub_host: StubHost, tmp_path: Path) -> None:
    assert stub_host.directory == (tmp_path / "erp").resolve()
    assert stub_host.users.with_feature("exchange") == []
    assert stub_host.plugin_manager.get_plugins() == set()
    assert stub_host.hook_calls() == []


def test_the_stub_host_fixture_closes_the_host(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def stub_host_entry_points():
            return False

        @pytest.fixture
        def stub_host_plugins():
            class Tick:
                from erp_hookspecs import hookimpl

                @hookimpl
                def on_timer_tick(self, now):
                    return None
            return [Tick()]
        """
    )
    pytester.makepyfile(
        """
        import sqlite3
        import pytest

        seen = []

        def test_use(stub_host):
            seen.append(stub_host)
            assert len(stub_host.plugin_manager.get_plugins()) == 1
            assert stub_host.timer_tick() == []

        def test_closed_afterwards():
            with pytest.raises(sqlite3.ProgrammingError):
                seen[0].users.get("x")
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_times_are_timezone_aware_utc(host: StubHost) -> None:
    host.mail_sink.deliver(_message("k"))
    host.records("address", "u1").put(None, {}, None)
    record = host.records("address", "u1").changes_since(None).changes[0].record
    assert record is not None
    assert record.modified_at is not None
    for moment in (record.modified_at, host.received_mail()[0].delivered_at):
        assert moment.utcoffset() == timedelta(0)


def test_a_failed_write_leaves_no_transaction_behind(host: StubHost) -> None:
    store = host.records("address", "u1")
    with pytest.raises(TypeError):
        store.put(None, {"bad": object()}, None)
    record = store.put(None, {"name": "ok"}, None)
    with pytest.raises(RecordNotFound):
        store.put("missing", {}, record.version)
    # The failed writes changed nothing and the host still writes.
    assert [c.record_id for c in store.changes_since(None).changes] == [record.record_id]
    store.put(record.record_id, {"name": "still ok"}, record.version)
