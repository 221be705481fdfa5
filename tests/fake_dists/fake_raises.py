"""An extension whose hook raises."""

from erp_exchange_plugin.hookspecs import hookimpl


@hookimpl
def erp_exchange_item_types():
    raise RuntimeError("database of memos is unreachable")
