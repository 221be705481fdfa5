"""Stands in for a built-in extension that declares the name ``journal`` (tests only)."""

from __future__ import annotations

from collections.abc import Iterator

from exchangelib import Message

from erp_exchange_plugin.hookspecs import hookimpl
from erp_exchange_plugin.plugin_types import EwsMapping, ItemType


@hookimpl
def erp_exchange_item_types() -> Iterator[ItemType]:
    mapping = EwsMapping("inbox", Message, ("subject",), dict, lambda item: {})
    yield ItemType(
        name="journal", erp_entity="journal", description="built-in journal", backends={"ews": mapping}
    )
