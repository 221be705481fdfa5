"""The stub host: a small SQLite ERP that implements :class:`erp_hookspecs.HostServices`."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pluggy

from erp_exchange_plugin.testing.stub_host.alerts import StubAlerts
from erp_exchange_plugin.testing.stub_host.codec import as_utc, utc_now
from erp_exchange_plugin.testing.stub_host.database import BUILTIN_ENTITIES, Database, check_entity_name
from erp_exchange_plugin.testing.stub_host.hook_log import HookCall, HookRecorder
from erp_exchange_plugin.testing.stub_host.mail import ReceivedMail, StubMailSink
from erp_exchange_plugin.testing.stub_host.records import StubRecordStore
from erp_exchange_plugin.testing.stub_host.settings import StubSettings
from erp_exchange_plugin.testing.stub_host.users import StubUserDirectory
from erp_hookspecs import (
    PROJECT_NAME,
    Alert,
    Alerts,
    HostServices,
    Mailbox,
    MailFetchReport,
    MailSink,
    RecordStore,
    SettingsResult,
    SettingsSource,
    StateLocation,
    TickReport,
    UnknownEntity,
    User,
    UserDirectory,
    make_plugin_manager,
)

DATABASE_NAME = "erp.sqlite3"
"""The file name of the ERP's database inside the host directory."""

_PLUGIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class StubHost:
    """A small SQLite ERP for tests, the demo and plugin authors.

    It is a complete host: it satisfies :class:`erp_hookspecs.HostServices`, loads plugins
    from the entry-point group ``erp`` like a real host, records every hook call, and lets a
    test seed and edit the ERP the way its users would::

        from erp_exchange_plugin.testing import StubHost

        with StubHost(tmp_path, plugins=[my_plugin], load_entry_points=False) as host:
            host.add_user("u1", "Ursula", "ursula@example.com")
            host.set_tenant_settings("mine", {"server": "https://mail.example.com"})
            host.records("address", "u1").put(None, {"name": "ACME"}, None)
            reports = host.timer_tick()
            assert host.hook_calls("on_timer_tick")[0].exception is None

    In pytest, the ``stub_host`` fixture gives a fresh one per test.

    Everything lives in ``directory``: the ERP database (``erp.sqlite3``, WAL mode) and one
    private state directory per plugin. Open the same directory again to see what an earlier
    host stored. The host is thread-safe (one connection behind a lock).

    :param directory: Where the ERP lives; created if missing.
    :param plugins: Plugin objects (modules, classes or instances with ``@hookimpl``
        functions) to register besides the entry points: the easy way to test a plugin that
        is not installed. They are registered under their ``__name__`` or class name, which
        is what :meth:`hook_calls` reports.
    :param load_entry_points: ``True`` loads every plugin in the entry-point group ``erp``
        (as a real host does); a collection of entry-point names loads only those (useful
        when other ``erp`` plugins are installed in the same environment); ``False`` loads
        none. A plugin that fails to import raises here: a broken plugin should fail a test.
    :param extra_entities: Entities besides ``address``, ``appointment`` and ``task`` (for a
        plugin that syncs a custom ERP entity); lower-case identifiers.
    :param clock: Returns the current timezone-aware time; the default is the real UTC time.
        Used for ``modified_at``, delivery and alert times, and :meth:`timer_tick`'s ``now``.
    :raises LookupError: a named entry point does not exist.
    :raises pluggy.PluginValidationError: a plugin implements a hook the contract does not
        have (usually a typo), or with parameters the hook does not pass.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        plugins: Iterable[object] = (),
        load_entry_points: bool | Collection[str] = True,
        extra_entities: Iterable[str] = (),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.directory = Path(directory).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        entities = list(BUILTIN_ENTITIES)
        for entity in extra_entities:
            if check_entity_name(entity) not in entities:
                entities.append(entity)
        self.entities: tuple[str, ...] = tuple(entities)
        """The entities this host has a record store for."""
        self._db = Database(self.directory / DATABASE_NAME, self.entities)
        try:
            self._users = StubUserDirectory(self._db)
            self._settings = StubSettings(self._db)
            self._mail_sink = StubMailSink(self._db, clock)
            self._alerts = StubAlerts(self._db, clock)
            self._recorder = HookRecorder(self._db, clock)
            self._pm = make_plugin_manager(load_entry_points=False)
            self._recorder.attach(self._pm)
            _load_entry_points(self._pm, load_entry_points)
            for plugin in plugins:
                self._pm.register(plugin, name=_readable_name(self._pm, plugin))
            # A hook implementation whose name matches no spec (a typo such as
            # ``on_timer_tik``) would otherwise never be called: fail loudly instead.
            self._pm.check_pending()
        except BaseException:
            self._db.close()
            raise

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database; the host is unusable afterwards. Calling it twice is fine."""
        self._db.close()

    def __enter__(self) -> StubHost:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._db.closed else "open"
        return f"StubHost({str(self.directory)!r}, {state})"

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The host's pluggy plugin manager (project ``erp``), for registering more plugins."""
        return self._pm

    @property
    def database_path(self) -> Path:
        """The ERP's SQLite file, for tests that want to look at the tables themselves."""
        return self._db.path

    # -- HostServices ---------------------------------------------------------------------------

    @property
    def users(self) -> StubUserDirectory:
        """The ERP's users (:class:`erp_hookspecs.UserDirectory`)."""
        return self._users

    @property
    def settings(self) -> StubSettings:
        """Raw tenant and user settings (:class:`erp_hookspecs.SettingsSource`)."""
        return self._settings

    def records(self, entity: str, user_id: str) -> StubRecordStore:
        """Return the record store of ``entity`` owned by ``user_id`` (:class:`erp_hookspecs.RecordStore`).

        :param entity: ``"address"``, ``"appointment"``, ``"task"`` or an extra entity.
        :param user_id: The owning user; records of other users are invisible to this store.
        :raises erp_hookspecs.UnknownEntity: the host has no such entity.
        """
        if entity not in self.entities:
            raise UnknownEntity(entity)
        return StubRecordStore(self._db, entity, user_id, self._clock)

    @property
    def mail_sink(self) -> StubMailSink:
        """The mail store (:class:`erp_hookspecs.MailSink`); read it with :meth:`received_mail`."""
        return self._mail_sink

    def state_location(self, plugin: str) -> StateLocation:
        """Return (and create) ``<directory>/plugins/<plugin>/`` and a SQLite URL inside it.

        :param plugin: The plugin's name: letters, digits, ``_``, ``.`` and ``-``.
        :returns: ``database_url`` is ``sqlite:///<absolute directory>/state.sqlite3``.
        :raises ValueError: ``plugin`` is not a usable directory name.
        """
        if not _PLUGIN_NAME.fullmatch(plugin) or plugin.strip(".") == "":
            raise ValueError(f"not a usable plugin name: {plugin!r}")
        directory = self.directory / "plugins" / plugin
        directory.mkdir(parents=True, exist_ok=True)
        return StateLocation(directory=directory, database_url=f"sqlite:///{directory / 'state.sqlite3'}")

    @property
    def alerts(self) -> StubAlerts:
        """Where alerts go (:class:`erp_hookspecs.Alerts`); read them with :meth:`raised_alerts`."""
        return self._alerts

    # -- seeding, as the ERP's users and administrators would ----------------------------------

    def add_user(
        self,
        user_id: str,
        display_name: str,
        email: str | None = None,
        features: Iterable[str] = ("exchange",),
    ) -> User:
        """Add a user of the ERP and return it.

        :param features: The features enabled for the user; ``host.users.with_feature(name)``
            lists the users who have ``name``.
        :raises ValueError: the user exists already.
        """
        user = User(user_id=user_id, display_name=display_name, email=email)
        self._users.add(user, features)
        return user

    def set_user_features(self, user_id: str, features: Iterable[str]) -> None:
        """Replace the features enabled for ``user_id`` (for example to switch Exchange off).

        :raises KeyError: there is no such user.
        """
        self._users.set_features(user_id, features)

    def set_tenant_settings(self, section: str, values: Mapping[str, Any]) -> None:
        """Store ``values`` as the tenant-wide ``section``, raw and unvalidated (replacing it)."""
        self._settings.set_tenant_section(section, values)

    def set_user_settings(self, user_id: str, section: str, values: Mapping[str, Any]) -> None:
        """Store ``values`` as ``user_id``'s ``section``, raw and unvalidated (replacing it).

        Use this to seed bad values a plugin must cope with; use :meth:`save_user_settings` to
        save the way the settings dialog does.

        :raises KeyError: there is no such user.
        """
        self._settings.set_user_section(user_id, section, values)

    def save_user_settings(
        self, user_id: str, section: str, proposed: Mapping[str, Any]
    ) -> list[SettingsResult]:
        """Save ``proposed`` the way the settings dialog does: validate first, store if valid.

        Calls ``on_user_settings_load`` with ``proposed``; stores the values (replacing the
        section) only when a plugin answered for ``section`` and its result has no errors.
        Otherwise nothing changes, which a test observes with
        ``host.settings.user_section(user_id, section)``.

        :returns: The results of all plugins, as the hook returned them.
        :raises KeyError: there is no such user.
        """
        if self._users.get(user_id) is None:
            raise KeyError(f"no user {user_id!r}")
        results = self.user_settings_load(user_id, {section: proposed})
        mine = [r for r in results if r.section == section]
        if mine and all(r.ok for r in mine):
            self._settings.set_user_section(user_id, section, proposed)
        return results

    # -- calling the hooks, as the host's services would ----------------------------------------

    def user_settings_load(
        self, user_id: str, proposed: Mapping[str, Mapping[str, Any]] | None = None
    ) -> list[SettingsResult]:
        """Call ``on_user_settings_load`` and return one result per plugin that has settings.

        :param proposed: Values about to be saved, keyed by section (see the hook's spec).
        """
        results: list[SettingsResult] = self._pm.hook.on_user_settings_load(
            host=self, user_id=user_id, proposed=proposed
        )
        return results

    def timer_tick(self, now: datetime | None = None, budget_seconds: float = 60.0) -> list[TickReport]:
        """Call ``on_timer_tick`` once, as the host's timer service does on each beat.

        :param now: The time of the beat (timezone-aware); the host's clock by default.
        :param budget_seconds: How long the plugins may work.
        :returns: One report per plugin that has periodic work.
        :raises ValueError: ``now`` is naive.
        """
        moment = as_utc(now if now is not None else self._clock())
        reports: list[TickReport] = self._pm.hook.on_timer_tick(
            host=self, now=moment, budget_seconds=budget_seconds
        )
        return reports

    def mail_fetch(self, mailbox: Mailbox) -> MailFetchReport | None:
        """Call ``on_mail_fetch`` for ``mailbox``; ``None`` when no plugin provides its protocol."""
        report: MailFetchReport | None = self._pm.hook.on_mail_fetch(host=self, mailbox=mailbox)
        return report

    # -- reading back what plugins did ----------------------------------------------------------

    def hook_calls(self, name: str | None = None) -> list[HookCall]:
        """Return every recorded hook call, oldest first, or only those of hook ``name``.

        Calls are recorded however they were made: through the convenience callers above or
        directly through :attr:`plugin_manager`; a call that raised is recorded with its
        exception before the exception reaches the caller.
        """
        return self._recorder.calls(name)

    def received_mail(
        self, *, user_id: str | None = None, mailbox_id: str | None = None
    ) -> list[ReceivedMail]:
        """Return the messages delivered to the mail sink, in delivery order."""
        return self._mail_sink.received(user_id=user_id, mailbox_id=mailbox_id)

    def raised_alerts(self, *, user_id: str | None = None, code: str | None = None) -> list[Alert]:
        """Return the alerts plugins raised, oldest first."""
        return self._alerts.raised(user_id=user_id, code=code)


def _readable_name(pm: pluggy.PluginManager, plugin: object) -> str:
    """A module's name, else the class name of an instance (``IntervalPlugin``, ``IntervalPlugin#2``)."""
    base = getattr(plugin, "__name__", None) or type(plugin).__qualname__
    name, n = base, 1
    while pm.has_plugin(name):
        n += 1
        name = f"{base}#{n}"
    return name


def _load_entry_points(pm: pluggy.PluginManager, which: bool | Collection[str]) -> None:
    if which is True:
        pm.load_setuptools_entrypoints(PROJECT_NAME)
        return
    if which is False:
        return
    if isinstance(which, str):
        raise TypeError("load_entry_points takes a collection of names: use ['name'], not 'name'")
    for name in which:
        if not pm.has_plugin(name) and pm.load_setuptools_entrypoints(PROJECT_NAME, name=name) == 0:
            raise LookupError(f"no entry point {name!r} in the group {PROJECT_NAME!r}")


if TYPE_CHECKING:  # checked by ``uv run mypy``: the stub host satisfies the host contract.

    def _satisfies_the_contract(host: StubHost) -> None:
        services: HostServices = host
        users: UserDirectory = host.users
        settings: SettingsSource = host.settings
        records: RecordStore = host.records("address", "u1")
        sink: MailSink = host.mail_sink
        alerts: Alerts = host.alerts
        del services, users, settings, records, sink, alerts
