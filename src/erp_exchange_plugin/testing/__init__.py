"""Test infrastructure that ships with the plugin: stub host, EWS emulator, fixtures."""

from erp_exchange_plugin.testing.stub_host import StubHost

__all__ = ["StubHost"]
