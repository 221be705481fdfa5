"""An extension that yields something that is not an ItemType."""

from erp_exchange_plugin.hookspecs import hookimpl


@hookimpl
def erp_exchange_item_types():
    yield {"name": "dicts_are_not_item_types"}
