"""erp-exchange-plugin: the Exchange connector of an ERP, as a pluggy plugin.

The host loads :mod:`erp_exchange_plugin.plugin` through the entry point ``erp = exchange``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("erp-exchange-plugin")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
