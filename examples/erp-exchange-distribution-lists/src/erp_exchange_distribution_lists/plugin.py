"""The plugin: one hook implementation that declares the ``distribution_lists`` item type."""

from __future__ import annotations

from collections.abc import Iterator

from exchangelib import DistributionList

from erp_exchange_distribution_lists import mapping
from erp_exchange_plugin.ews.properties import register_on
from erp_exchange_plugin.hookspecs import hookimpl
from erp_exchange_plugin.plugin_types import EwsMapping, ItemType

register_on(DistributionList)  # our items carry the connector's ERP id and installation id, like contacts


@hookimpl
def erp_exchange_item_types() -> Iterator[ItemType]:
    """Exchange distribution lists <-> ERP contact groups."""
    yield ItemType(
        name="distribution_lists",
        erp_entity="contact_group",
        description="Exchange distribution lists <-> ERP contact groups",
        backends={
            "ews": EwsMapping(
                folder="contacts",
                item_class=DistributionList,
                fields=mapping.FIELDS,
                to_exchange=mapping.to_exchange,
                to_erp=mapping.to_erp,
            )
        },
        normalize=mapping.normalize,
    )
