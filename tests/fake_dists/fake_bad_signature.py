"""An extension whose hook implementation does not match the spec (an argument the spec lacks)."""

from erp_exchange_plugin.hookspecs import hookimpl


@hookimpl
def erp_exchange_item_types(account):
    return []
