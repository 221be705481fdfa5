"""Resolve a user's settings from what the host stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erp_exchange_plugin.settings.catalogue import SECTION
from erp_exchange_plugin.settings.resolve import Resolution, resolve
from erp_hookspecs import HostServices


def resolve_user(host: HostServices, user_id: str, proposed: Mapping[str, Any] | None = None) -> Resolution:
    """Resolve ``user_id``'s settings from the host's user and tenant sections.

    :param proposed: Our section's values the user is about to save (instead of the stored ones).
    """
    user = host.users.get(user_id)
    user_raw = proposed if proposed is not None else host.settings.user_section(user_id, SECTION)
    return resolve(
        user_id,
        user_raw,
        host.settings.tenant_section(SECTION),
        host_email=user.email if user is not None else None,
        proposed=proposed is not None,
    )
