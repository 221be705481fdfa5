"""Our plugin manager: built-in and third-party extensions, their status, what they provide.

Extensions register in the entry-point group ``erp_exchange``. Loading never stops at a
broken one: an extension whose import fails, whose hooks do not match our specs, or whose
hook raises is skipped with a logged warning and a visible status (``erp-exchange plugins``).
A name (item type or mail protocol) declared by two providers is rejected with an error that
names both; a built-in keeps its own names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import EntryPoint, entry_points
from typing import Any, TypeVar

import pluggy

from erp_exchange_plugin import hookspecs
from erp_exchange_plugin.log import get_logger
from erp_exchange_plugin.plugin_types import ItemType, MailProvider, PluginError

log = get_logger(__name__)

BUILTIN_PLUGINS: tuple[str, ...] = (
    "erp_exchange_plugin.item_types.contacts",
    "erp_exchange_plugin.item_types.calendar",
    "erp_exchange_plugin.item_types.tasks",
    "erp_exchange_plugin.mail.builtin",
)
"""Modules of the built-in extensions, registered through the same hooks as third-party ones."""

LOADED = "loaded"
BROKEN = "broken"

_T = TypeVar("_T", ItemType, MailProvider)


@dataclass(frozen=True, slots=True)
class PluginStatus:
    """What one extension is and did.

    :param name: The name it is registered under (the entry-point name, or the module for built-ins).
    :param source: ``"built-in"`` or ``"entry point <name> = <target> (<distribution> <version>)"``.
    :param state: ``"loaded"`` or ``"broken"`` (skipped).
    :param reason: Why it is broken.
    :param hooks: The extension hooks it implements.
    :param item_types: The item types it provides (after conflicts were rejected).
    :param mail_providers: The mail protocols it provides (after conflicts were rejected).
    :param problems: Declarations that were rejected (for example a duplicate name).
    """

    name: str
    source: str
    state: str = LOADED
    reason: str | None = None
    hooks: tuple[str, ...] = ()
    item_types: tuple[str, ...] = ()
    mail_providers: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())

    @property
    def builtin(self) -> bool:
        """True for the plugin's own extensions."""
        return self.source == "built-in"


def _describe(ep: EntryPoint) -> str:
    dist = ep.dist
    where = f" ({dist.name} {dist.version})" if dist is not None else ""
    return f"entry point {ep.name} = {ep.value}{where}"


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class ExtensionManager:
    """Loads extensions and answers which item types and mail providers exist.

    :param entry_points: Load third-party extensions from the entry-point group ``erp_exchange``.
    :param builtins: Modules of the built-in extensions.
    :param plugins: Extra ``(name, plugin object)`` pairs to register (tests, embedding hosts).
    """

    def __init__(
        self,
        *,
        entry_points: bool = True,
        builtins: Iterable[str] = BUILTIN_PLUGINS,
        plugins: Iterable[tuple[str, object]] = (),
    ) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self._status: dict[str, PluginStatus] = {}
        for module in builtins:
            self._register(module, importlib.import_module(module), "built-in")
        for name, obj in plugins:
            self._register(name, obj, "registered in process")
        if entry_points:
            self._load_entry_points()
        item_types = self._gather("erp_exchange_item_types", ItemType)
        providers = self._gather("erp_exchange_mail_providers", MailProvider)
        self._item_types = self._choose(item_types, lambda x: x.name, "item type")
        self._mail_providers = self._choose(providers, lambda x: x.protocol, "mail protocol")

    # -- loading -------------------------------------------------------------------------------

    def _load_entry_points(self) -> None:
        for ep in sorted(entry_points(group=hookspecs.PROJECT_NAME), key=lambda e: e.name):
            if ep.name in self._status:
                self._broken(ep.name, _describe(ep), f"the name {ep.name!r} is already taken")
                continue
            try:
                obj = ep.load()
            except Exception as exc:
                self._broken(ep.name, _describe(ep), f"import failed: {_error_text(exc)}")
                continue
            self._register(ep.name, obj, _describe(ep))

    def _register(self, name: str, obj: object, source: str) -> None:
        try:
            self.pm.register(obj, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            if source == "built-in":
                raise
            self._broken(name, source, f"rejected: {_error_text(exc)}")
            return
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(obj)
            if source == "built-in":
                raise
            self._broken(name, source, f"implements a hook we do not have: {exc}")
            return
        hooks = tuple(sorted(caller.name for caller in self.pm.get_hookcallers(obj) or ()))
        self._status[name] = PluginStatus(name=name, source=source, hooks=hooks)

    def _broken(self, name: str, source: str, reason: str) -> None:
        self._status[name] = PluginStatus(name=name, source=source, state=BROKEN, reason=reason)
        log.warning("extension skipped", extension=name, source=source, reason=reason)

    def _unregister_broken(self, name: str, reason: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        status = self._status[name]
        self._status[name] = replace(status, state=BROKEN, reason=reason)
        log.warning("extension skipped", extension=name, source=status.source, reason=reason)

    # -- collecting declarations ---------------------------------------------------------------

    def _gather(self, hook_name: str, kind: type[_T]) -> dict[str, list[_T]]:
        """Call every implementation of ``hook_name`` on its own; a failing extension is skipped."""
        gathered: dict[str, list[_T]] = {}
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        order = list(self._status)
        for impl in sorted(impls, key=lambda i: order.index(i.plugin_name)):
            name = impl.plugin_name
            try:
                items = list(impl.function())
                bad = [x for x in items if not isinstance(x, kind)]
                if bad:
                    raise PluginError(f"{hook_name} yielded {bad[0]!r}, which is not of type {kind.__name__}")
            except Exception as exc:
                if self._status[name].builtin:
                    raise
                self._unregister_broken(name, f"{hook_name} failed: {_error_text(exc)}")
                continue
            gathered[name] = items
        return gathered

    def _choose(
        self, gathered: dict[str, list[_T]], key: Callable[[_T], str], kind_name: str
    ) -> dict[str, _T]:
        """Pick one provider per name; conflicts are rejected and recorded with both providers."""
        declared: dict[str, list[tuple[str, _T]]] = {}
        for plugin_name, items in gathered.items():
            if self._status[plugin_name].state == BROKEN:
                continue
            for item in items:
                declared.setdefault(key(item), []).append((plugin_name, item))
        chosen: dict[str, _T] = {}
        for item_name, providers in declared.items():
            builtin = [p for p in providers if self._status[p[0]].builtin]
            winner = builtin[0] if builtin else (providers[0] if len(providers) == 1 else None)
            if winner is not None:
                chosen[item_name] = winner[1]
                self._provides(winner[0], kind_name, item_name)
            if len(providers) == 1:
                continue
            names = " and ".join(repr(p[0]) for p in providers)
            why = f"kept by built-in {winner[0]!r}" if winner is not None else "rejected for all of them"
            for provider, _ in providers:
                if winner is None or provider != winner[0]:
                    self._problem(provider, f"{kind_name} {item_name!r} is declared by {names}: {why}")
        return chosen

    def _provides(self, name: str, kind_name: str, item_name: str) -> None:
        status = self._status[name]
        if kind_name == "item type":
            self._status[name] = replace(status, item_types=(*status.item_types, item_name))
        else:
            self._status[name] = replace(status, mail_providers=(*status.mail_providers, item_name))

    def _problem(self, name: str, problem: str) -> None:
        status = self._status[name]
        self._status[name] = replace(status, problems=(*status.problems, problem))
        log.warning("extension declaration rejected", extension=name, problem=problem)

    # -- answers -------------------------------------------------------------------------------

    @property
    def item_types(self) -> Mapping[str, ItemType]:
        """The usable item types by name."""
        return dict(self._item_types)

    @property
    def mail_providers(self) -> Mapping[str, MailProvider]:
        """The usable mail providers by protocol."""
        return dict(self._mail_providers)

    @property
    def statuses(self) -> tuple[PluginStatus, ...]:
        """Every extension, loaded or broken, in load order."""
        return tuple(self._status.values())

    def status_dicts(self) -> list[dict[str, Any]]:
        """The statuses as JSON-ready dictionaries."""
        return [
            {
                "name": s.name,
                "source": s.source,
                "state": s.state,
                "reason": s.reason,
                "hooks": list(s.hooks),
                "item_types": list(s.item_types),
                "mail_providers": list(s.mail_providers),
                "problems": list(s.problems),
            }
            for s in self.statuses
        ]
