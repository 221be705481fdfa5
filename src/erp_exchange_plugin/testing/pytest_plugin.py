"""pytest plugin (entry point ``pytest11``) with fixtures for testing against the stub host."""

from __future__ import annotations
