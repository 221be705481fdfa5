"""Settings: the ``exchange`` section, validated and resolved user -> tenant -> default.

- :mod:`.catalogue`: every setting, its default and who may set it;
- :mod:`.schema`: marshmallow schemas of one level into frozen values;
- :mod:`.resolve`: resolution with origins, locks, the OAuth triple rule and URL policy;
- :mod:`.model`: :class:`ExchangeSettings`, what the rest of the plugin reads.
"""

from __future__ import annotations

from erp_exchange_plugin.settings.catalogue import SECTION, SETTINGS, AuthMode
from erp_exchange_plugin.settings.model import ExchangeSettings
from erp_exchange_plugin.settings.resolve import Resolution, resolve

__all__ = ["SECTION", "SETTINGS", "AuthMode", "ExchangeSettings", "Resolution", "resolve"]
