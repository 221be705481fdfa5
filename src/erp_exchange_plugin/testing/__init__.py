"""Test infrastructure that ships with the plugin: stub host, EWS emulator, fixtures."""
