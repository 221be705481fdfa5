"""The field-wise three-way merge of an item changed on both sides."""

from __future__ import annotations

import datetime as dt

from erp_exchange_plugin.sync.merge import snapshot, three_way


def test_edits_of_different_fields_both_survive() -> None:
    base = {"name": "A", "phone": "1", "title": "x"}
    merged, clashes = three_way(base, {**base, "title": "ERP"}, {**base, "phone": "2"})
    assert clashes == {}
    assert merged == {"name": "A", "phone": "2", "title": "ERP"}


def test_the_same_edit_on_both_sides_is_no_clash() -> None:
    base = {"name": "A"}
    merged, clashes = three_way(base, {"name": "B"}, {"name": "B"})
    assert (merged, clashes) == ({"name": "B"}, {})


def test_different_edits_of_one_field_clash() -> None:
    merged, clashes = three_way({"t": "x", "n": 1}, {"t": "erp", "n": 1}, {"t": "ex", "n": 1})
    assert clashes == {"t": ("erp", "ex")}
    assert merged == {"n": 1}


def test_values_compare_as_json_but_come_back_as_they_were() -> None:
    day = dt.date(1990, 5, 17)
    base = json_base = {"birthday": day.isoformat(), "n": "a"}
    merged, clashes = three_way(json_base, {"birthday": day, "n": "a"}, {"birthday": day, "n": "b"})
    assert clashes == {}
    assert merged["birthday"] is day
    assert merged["n"] == "b"
    assert snapshot({"birthday": day}) == '{"birthday":"1990-05-17"}'
    assert base["n"] == "a"
