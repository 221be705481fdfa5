"""Security tests: the emulator and Dovecot fixtures come from the package's pytest plugin."""
