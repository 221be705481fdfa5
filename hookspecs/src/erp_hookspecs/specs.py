"""The host hook specifications.

A host registers this module with its plugin manager
(``pm.add_hookspecs(erp_hookspecs.specs)``), loads plugins from the entry-point group
``erp`` and calls the hooks below. Each hook receives the host services as ``host``;
implementations may accept any subset of a hook's parameters (pluggy matches by name).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from erp_hookspecs.markers import hookspec
from erp_hookspecs.services import HostServices
from erp_hookspecs.types import Mailbox, MailFetchReport, SettingsResult, TickReport


@hookspec
def on_user_settings_load(
    host: HostServices, user_id: str, proposed: Mapping[str, Mapping[str, Any]] | None
) -> SettingsResult | None:
    """Resolve one user's settings for the plugin's own section.

    Called when the settings dialog opens, when the user saves it (with ``proposed``),
    and before each sync. A plugin validates the user's section, resolves it against the
    tenant-wide section and its defaults, and answers with every effective value (secrets
    masked), the origin of each value, the fields the user may edit without admin rights,
    and field-level errors. Invalid input gives errors in the result, never an exception.

    :param host: The host services.
    :param user_id: The user whose settings are loaded.
    :param proposed: Values the user is about to save, keyed by section (one dialog may
        edit the sections of several plugins), or ``None`` to resolve what is stored. A
        plugin whose section is not in ``proposed`` resolves its stored values. The plugin
        stores nothing; a host stores a section's values only when that section's result
        has no errors.
    :returns: The plugin's :class:`~erp_hookspecs.types.SettingsResult`, or ``None`` when the
        plugin has no settings. The host receives a list with one result per plugin.

    Example::

        @hookimpl
        def on_user_settings_load(host, user_id, proposed):
            if proposed is not None and "mine" in proposed:
                raw = proposed["mine"]
            else:
                raw = host.settings.user_section(user_id, "mine")
            return SettingsResult(section="mine", user_id=user_id, effective=dict(raw))
    """


@hookspec
def on_timer_tick(host: HostServices, now: datetime, budget_seconds: float) -> TickReport | None:
    """Do the plugin's periodic work that is due at ``now``.

    Called on every beat of the host's timer service. A plugin picks the work that is due
    (for example the users whose sync interval has passed), does as much as fits in
    ``budget_seconds``, leaves the rest for the next tick, and reports what it did. A failure
    for one user is reported, never raised.

    :param host: The host services.
    :param now: The time of the beat (timezone-aware).
    :param budget_seconds: How long the plugin may work before returning.
    :returns: A :class:`~erp_hookspecs.types.TickReport`, or ``None`` when the plugin has no
        periodic work. The host receives a list with one report per plugin.

    Example::

        @hookimpl
        def on_timer_tick(host, now, budget_seconds):
            return TickReport(plugin="mine", started_at=now, finished_at=now)
    """


@hookspec(firstresult=True)
def on_mail_fetch(host: HostServices, mailbox: Mailbox) -> MailFetchReport | None:
    """Fetch new mail of one mailbox into the host's mail sink.

    Called by the host's mail service for each mailbox it polls. A plugin answers only for
    the protocols it provides and returns ``None`` for any other, so several mail plugins can
    live side by side. Every message goes to ``host.mail_sink`` with an idempotency key; a
    plugin moves its checkpoint only after the sink accepted the message.

    This hook is ``firstresult``: the first plugin that returns a report ends the call.

    :param host: The host services.
    :param mailbox: The mailbox to poll, with its protocol and settings.
    :returns: A :class:`~erp_hookspecs.types.MailFetchReport`, or ``None`` when the plugin does
        not provide ``mailbox.protocol``.

    Example::

        @hookimpl
        def on_mail_fetch(host, mailbox):
            if mailbox.protocol != "carrier-pigeon":
                return None
            return MailFetchReport(mailbox_id=mailbox.mailbox_id)
    """
