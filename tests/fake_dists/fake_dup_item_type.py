"""An extension that declares an item-type name another extension declares too."""

from exchangelib import Message

from erp_exchange_plugin.hookspecs import hookimpl
from erp_exchange_plugin.plugin_types import EwsMapping, ItemType


@hookimpl
def erp_exchange_item_types():
    mapping = EwsMapping("inbox", Message, ("subject",), dict, lambda item: {})
    yield ItemType(
        name="journal", erp_entity="journal", description="a second journal", backends={"ews": mapping}
    )
    yield ItemType(name="memos", erp_entity="memo", description="memos", backends={"ews": mapping})
