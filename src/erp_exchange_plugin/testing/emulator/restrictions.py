"""FindItem restrictions and sort orders, evaluated against stored items.

Supported: IsEqualTo, IsNotEqualTo, IsGreaterThan, IsGreaterThanOrEqualTo, IsLessThan, IsLessThanOrEqualTo
(against a Constant or another property), Exists, Contains (ContainmentMode and ContainmentComparison), And,
Or, Not, over plain, indexed and extended properties. Values compare by type (booleans, date-times, numbers;
strings case-insensitively, as Exchange does). As in MAPI, a comparison on a missing property is false.

``m:QueryString`` (AQS) is approximated by :func:`matches_query`: every term must occur, case-insensitively,
in the item's text (``subject:word`` restricts a term to one property).
"""

from __future__ import annotations

import datetime as dt
import functools
import shlex
from collections.abc import Callable
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from .items import (
    FieldPath,
    ItemError,
    ItemModel,
    parse_bool,
    parse_datetime,
    parse_path,
    value_kind,
    values_of,
)
from .soap import local, t
from .store import Folder, Item

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "IsEqualTo": lambda a, b: a == b,
    "IsNotEqualTo": lambda a, b: a != b,
    "IsGreaterThan": lambda a, b: a > b,
    "IsGreaterThanOrEqualTo": lambda a, b: a >= b,
    "IsLessThan": lambda a, b: a < b,
    "IsLessThanOrEqualTo": lambda a, b: a <= b,
}


def _convert(value: str, kind: str) -> Any:
    if kind == "boolean":
        return parse_bool(value)
    if kind == "dateTime":
        return parse_datetime(value)
    if kind == "number":
        return float(value)
    return value.casefold()


class Restriction:
    """A compiled restriction for the item kinds of one folder."""

    def __init__(self, model: ItemModel, element: etree._Element, kinds: tuple[str, ...]) -> None:
        self.model = model
        self.kinds = kinds
        children = [c for c in element if isinstance(c.tag, str)]
        if len(children) != 1:
            raise ItemError("ErrorInvalidRestriction", "A restriction must have exactly one expression.")
        self.root = children[0]
        self._check(self.root)

    def _check(self, el: etree._Element) -> None:
        name = local(el.tag)
        if name in ("And", "Or", "Not"):
            for child in el:
                self._check(child)
        elif name not in (*_COMPARE, "Exists", "Contains"):
            raise ItemError("ErrorUnsupportedQueryFilter", f"The restriction {name} is not supported.")

    def matches(self, item: Item, folder: Folder) -> bool:
        """Whether the item satisfies the restriction."""
        return self._eval(self.root, item, folder)

    def _eval(self, el: etree._Element, item: Item, folder: Folder) -> bool:
        name = local(el.tag)
        if name == "And":
            return all(self._eval(c, item, folder) for c in el)
        if name == "Or":
            return any(self._eval(c, item, folder) for c in el)
        if name == "Not":
            return not self._eval(el[0], item, folder)
        path = parse_path(el[0])
        values = values_of(item, folder, path)
        if name == "Exists":
            return values is not None
        if values is None:
            return False
        if name == "Contains":
            return self._contains(el, values)
        other = el.find(t("FieldURIOrConstant"))
        if other is None or len(other) != 1:
            raise ItemError("ErrorInvalidRestriction", f"{name} needs FieldURIOrConstant.")
        kind = value_kind(self.model, self.kinds, path)
        operand = other[0]
        if local(operand.tag) == "Constant":
            rights = [operand.get("Value", "")]
        else:
            found = values_of(item, folder, parse_path(operand))
            if found is None:
                return False
            rights = found
        compare = _COMPARE[name]
        try:
            right_values = [_convert(r, kind) for r in rights]
            left_values = [_convert(v, kind) for v in values]
        except ValueError:
            raise ItemError("ErrorInvalidValueForProperty", f"Cannot compare values of {path.uri}.") from None
        if name == "IsNotEqualTo":
            return all(compare(lv, rv) for lv in left_values for rv in right_values)
        return any(compare(lv, rv) for lv in left_values for rv in right_values)

    @staticmethod
    def _contains(el: etree._Element, values: list[str]) -> bool:
        constant = el.find(t("Constant"))
        needle = constant.get("Value", "") if constant is not None else ""
        mode = el.get("ContainmentMode", "FullString")
        comparison = el.get("ContainmentComparison", "Exact")
        if comparison != "Exact":
            needle = needle.casefold()
        for value in values:
            hay = value if comparison == "Exact" else value.casefold()
            if (
                (mode == "FullString" and hay == needle)
                or (mode == "Prefixed" and hay.startswith(needle))
                or (mode in ("Substring", "ExactPhrase") and needle in hay)
                or (mode == "PrefixOnWords" and any(w.startswith(needle) for w in hay.split()))
            ):
                return True
        return False


def sort_items(
    model: ItemModel, entries: list[tuple[Item, Folder]], order: etree._Element | None, kinds: tuple[str, ...]
) -> list[tuple[Item, Folder]]:
    """Apply ``m:SortOrder`` (stable; missing values first when ascending)."""
    if order is None:
        return entries
    result = list(entries)
    for field_order in reversed(list(order)):
        path: FieldPath = parse_path(field_order[0])
        kind = value_kind(model, kinds, path)
        descending = field_order.get("Order", "Ascending") == "Descending"

        def key(entry: tuple[Item, Folder], path: FieldPath = path, kind: str = kind) -> tuple[int, Any]:
            values = values_of(entry[0], entry[1], path)
            if not values:
                return (0, "")
            try:
                return (1, _convert(values[0], kind))
            except ValueError:
                return (1, values[0])

        keyed = [(key(entry), entry) for entry in result]
        keyed.sort(key=functools.cmp_to_key(_cmp_keyed), reverse=descending)
        result = [entry for _, entry in keyed]
    return result


def _cmp_keyed(a: tuple[tuple[int, Any], object], b: tuple[tuple[int, Any], object]) -> int:
    return _cmp(a[0], b[0])


def _cmp(a: tuple[int, Any], b: tuple[int, Any]) -> int:
    if a[0] != b[0]:
        return -1 if a[0] < b[0] else 1
    if a[1] == b[1]:
        return 0
    try:
        return -1 if a[1] < b[1] else 1
    except TypeError:
        return -1 if str(a[1]) < str(b[1]) else 1


def overlaps(item: Item, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether a calendar item overlaps [start, end) (CalendarView)."""
    s, e = item.text("Start"), item.text("End")
    if not s or not e:
        return False
    return parse_datetime(s) < end and parse_datetime(e) > start


def matches_query(item: Item, query: str) -> bool:
    """A rough AQS match: all terms occur in the item's text (``name:term`` searches property ``name``)."""
    texts = {name.lower(): " ".join(el.itertext()).casefold() for name, el in item.props.items()}
    everything = " ".join(texts.values())
    for term in shlex.split(query) if query.count('"') % 2 == 0 else query.split():
        name, sep, word = term.partition(":")
        if sep and name.lower() in texts:
            if word.casefold() not in texts[name.lower()]:
                return False
        elif term.casefold() not in everything:
            return False
    return True
