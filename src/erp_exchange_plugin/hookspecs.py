"""Our extension hooks (marker ``erp_exchange``): how plugins add item types and mail providers.

Third-party plugins register in the entry-point group ``erp_exchange``; the built-in item
types and mail providers go through the very same hooks. Implement them with
:data:`hookimpl`::

    from erp_exchange_plugin.hookspecs import hookimpl

    @hookimpl
    def erp_exchange_item_types():
        yield ItemType(...)
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from erp_exchange_plugin.plugin_types import ItemType, MailProvider

PROJECT_NAME = "erp_exchange"
"""The pluggy project name of our extension hooks, and the entry-point group of extensions."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin's implementation of one of our extension hooks."""


@hookspec
def erp_exchange_item_types() -> Iterable[ItemType]:
    """Declare item types the sync engine can sync between the ERP and Exchange.

    Called once when the plugin loads its extensions. Yield (or return a list of)
    :class:`~erp_exchange_plugin.plugin_types.ItemType` objects. Each name must be unique
    across all plugins: a second provider of a name is rejected, and the error names both
    providers. A plugin whose implementation raises or yields anything but an ``ItemType``
    is skipped with a warning; the other item types keep working.

    :returns: The item types this plugin provides.

    Example::

        @hookimpl
        def erp_exchange_item_types():
            yield ItemType(
                name="distribution_lists",
                erp_entity="contact_group",
                description="Exchange distribution lists <-> ERP contact groups",
                backends={"ews": EwsMapping(...)},
            )
    """
    raise NotImplementedError  # pragma: no cover - a spec, never called


@hookspec
def erp_exchange_mail_providers() -> Iterable[MailProvider]:
    """Declare mail protocols ``on_mail_fetch`` can fetch from.

    Called once when the plugin loads its extensions. Yield (or return a list of)
    :class:`~erp_exchange_plugin.plugin_types.MailProvider` objects. A protocol name must be
    unique across all plugins: a second provider is rejected, and the error names both.

    :returns: The mail providers this plugin provides.

    Example::

        @hookimpl
        def erp_exchange_mail_providers():
            yield MailProvider(protocol="jmap", description="JMAP (RFC 8620)", fetcher=fetch_jmap)
    """
    raise NotImplementedError  # pragma: no cover - a spec, never called
