"""An extension implementing a hook we do not have (a typo of erp_exchange_item_types)."""

from erp_exchange_plugin.hookspecs import hookimpl


@hookimpl
def erp_exchange_item_type():
    return []
