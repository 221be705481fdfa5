"""The host contract of the ERP's plugins.

- :mod:`erp_hookspecs.markers`: the pluggy markers (project name ``erp``);
- :mod:`erp_hookspecs.specs`: the hook specifications a host calls;
- :mod:`erp_hookspecs.services`: the Protocols of the host services passed to every hook;
- :mod:`erp_hookspecs.types`: the plain data that crosses the contract;
- :mod:`erp_hookspecs.errors`: what host services raise.

A host builds its plugin manager with :func:`make_plugin_manager`.
"""

from __future__ import annotations

import pluggy

from erp_hookspecs import specs
from erp_hookspecs.errors import HostError, RecordNotFound, UnknownEntity, VersionConflict
from erp_hookspecs.markers import PROJECT_NAME, hookimpl, hookspec
from erp_hookspecs.services import (
    Alerts,
    HostServices,
    MailSink,
    RecordStore,
    SettingsSource,
    UserDirectory,
)
from erp_hookspecs.types import (
    Alert,
    ChangePage,
    Delivery,
    FieldError,
    InboundMessage,
    Mailbox,
    MailFetchReport,
    Origin,
    Record,
    RecordChange,
    SettingsResult,
    Severity,
    StateLocation,
    TickReport,
    User,
)

__all__ = [
    "PROJECT_NAME",
    "Alert",
    "Alerts",
    "ChangePage",
    "Delivery",
    "FieldError",
    "HostError",
    "HostServices",
    "InboundMessage",
    "MailFetchReport",
    "MailSink",
    "Mailbox",
    "Origin",
    "Record",
    "RecordChange",
    "RecordNotFound",
    "RecordStore",
    "SettingsResult",
    "SettingsSource",
    "Severity",
    "StateLocation",
    "TickReport",
    "UnknownEntity",
    "User",
    "UserDirectory",
    "VersionConflict",
    "hookimpl",
    "hookspec",
    "make_plugin_manager",
]


def make_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    """Return a plugin manager with the host specs added and, by default, plugins loaded.

    Plugins are found in the entry-point group ``erp``.
    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(specs)
    if load_entry_points:
        pm.load_setuptools_entrypoints(PROJECT_NAME)
    return pm
