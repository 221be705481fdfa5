"""Fixtures of the reliability tests: the session emulator."""

from erp_exchange_plugin.testing.emulator.fixtures import ews_emulator, ews_emulator_clean

__all__ = ["ews_emulator", "ews_emulator_clean"]
