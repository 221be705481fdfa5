"""The stub host: a small SQLite ERP implementing the host contract of :mod:`erp_hookspecs`.

Use it to test a plugin the way a real ERP runs it::

    from erp_hookspecs import Mailbox
    from erp_exchange_plugin.testing import StubHost

    def test_my_plugin(tmp_path):
        with StubHost(tmp_path, load_entry_points=["mine"]) as host:  # or plugins=[MyPlugin()]
            # Seed the ERP as its users and administrators would.
            host.add_user("u1", "Ursula", "ursula@example.com", features=["mine"])
            host.set_tenant_settings("mine", {"server": "https://mail.example.com"})
            contact = host.records("address", "u1").put(None, {"name": "ACME"}, None)

            # Drive the plugin as the host's services would.
            assert host.save_user_settings("u1", "mine", {"interval": 0})[0].errors
            host.timer_tick(budget_seconds=5)
            host.mail_fetch(Mailbox("mb1", "u1", "imap", {"host": "127.0.0.1"}))

            # Read back what the plugin did.
            host.records("address", "u1").changes_since(None)
            host.received_mail(user_id="u1")
            host.raised_alerts(user_id="u1")
            host.hook_calls("on_timer_tick")

In pytest the ``stub_host`` fixture (see :mod:`erp_exchange_plugin.testing.pytest_plugin`) gives
a fresh host per test. :class:`StubHost` is the entry point; the other names are what its
methods return. One module per job: ``database`` (connection, lock, schema), ``codec`` (JSON in
and out), ``users``, ``settings``, ``records``, ``mail``, ``alerts``, ``hook_log``, ``host``.
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
