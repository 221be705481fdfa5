"""The stub host: a small SQLite ERP implementing the host contract of :mod:`erp_hookspecs`.

:class:`StubHost` is the entry point; the other names are what its methods return.
"""

from __future__ import annotations

from erp_exchange_plugin.testing.stub_host.alerts import StubAlerts
from erp_exchange_plugin.testing.stub_host.database import BUILTIN_ENTITIES
from erp_exchange_plugin.testing.stub_host.hook_log import HookCall
from erp_exchange_plugin.testing.stub_host.host import DATABASE_NAME, StubHost
from erp_exchange_plugin.testing.stub_host.mail import ReceivedMail, StubMailSink
from erp_exchange_plugin.testing.stub_host.records import StubRecordStore
from erp_exchange_plugin.testing.stub_host.settings import StubSettings
from erp_exchange_plugin.testing.stub_host.users import StubUserDirectory

__all__ = [
    "BUILTIN_ENTITIES",
    "DATABASE_NAME",
    "HookCall",
    "ReceivedMail",
    "StubAlerts",
    "StubHost",
    "StubMailSink",
    "StubRecordStore",
    "StubSettings",
    "StubUserDirectory",
]
