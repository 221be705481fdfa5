"""Scheduler tests: the emulator fixtures come from the package's pytest plugin."""
