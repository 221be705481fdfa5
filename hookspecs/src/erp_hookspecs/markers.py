"""The pluggy markers of the ERP host contract (project name ``erp``).

Hosts create their plugin manager with :data:`PROJECT_NAME`; plugins decorate their hook
implementations with :data:`hookimpl`.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "erp"
"""The pluggy project name, which is also the entry-point group plugins register under."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a function in :mod:`erp_hookspecs.specs` as a hook specification."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin's function as the implementation of a host hook."""
