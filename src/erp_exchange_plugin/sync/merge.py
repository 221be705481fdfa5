"""Field-wise three-way merge of an item changed on both sides.

With the content both sides held at the last sync as the base, a field changed on one side only
takes that side's value; a field changed on both sides to the same value is simply kept. Only a
field changed on both sides to different values is a clash, for the conflict policy to decide.
So an Outlook edit of a phone number and an ERP edit of a job title of the same contact both
survive.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def snapshot(fields: Mapping[str, Any]) -> str:
    """Canonical JSON of normalized fields (dates as ISO text): what a pair stores as its base."""
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _plain(fields: Mapping[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(snapshot(fields))
    return loaded


def three_way(
    base: Mapping[str, Any], erp: Mapping[str, Any], exchange: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]]]:
    """Merge ``erp`` and ``exchange`` against ``base``.

    :returns: The merged fields (values taken from ``erp`` or ``exchange`` as they are) without the
        clashing fields, and the clashes: field -> (ERP value, Exchange value).
    """
    b, e, x = _plain(base), _plain(erp), _plain(exchange)
    merged: dict[str, Any] = {}
    clashes: dict[str, tuple[Any, Any]] = {}
    for key in sorted(set(erp) | set(exchange)):
        if e.get(key) == x.get(key) or x.get(key) == b.get(key):
            merged[key] = erp.get(key)
        elif e.get(key) == b.get(key):
            merged[key] = exchange.get(key)
        else:
            clashes[key] = (erp.get(key), exchange.get(key))
    return merged, clashes
