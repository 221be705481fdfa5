"""ERP tasks <-> Exchange tasks.

The ERP record (entity ``task``) has these fields; :func:`normalize` checks and canonicalises
them, and both directions of the mapping produce exactly this shape:

================  ===============================================  =============================
field             type                                             Exchange task
================  ===============================================  =============================
subject           text                                             Subject
body              multi-line text                                  Body (HTML is read as text)
start_date        date                                             StartDate
due_date          date (never before start_date)                   DueDate
status            not_started | in_progress | completed |          Status
                  waiting_on_others | deferred (default
                  not_started)
percent_complete  whole number 0..100                              PercentComplete
importance        low | normal | high (default normal)             Importance
reminder_at       aware datetime in UTC (whole seconds), or null   ReminderIsSet, ReminderDueBy
categories        list of text (compared as a sorted set)          Categories
================  ===============================================  =============================

Exchange (and exchangelib's ``Task.clean()``) make some combinations consistent on their own;
:func:`normalize` applies the same rules, in this order, so what Exchange stores is exactly what
the ERP sent and nothing bounces back and forth:

1. ``status`` completed => ``percent_complete`` 100;
2. ``percent_complete`` 100 => ``status`` completed;
3. ``status`` not_started => ``percent_complete`` 0;
4. ``due_date`` before ``start_date`` => ``due_date`` = ``start_date``.

The same rules read Exchange's side, so a pair Exchange has no rule for (an Outlook user
lowering a completed task to 0 %) is seen as completed at 100 % on both sides.

Task dates are calendar dates: exchangelib sends them as midnight UTC and reads the date part
back, so they do not shift with anyone's time zone. Recurring tasks, the completion date and
the work/billing fields are not mapped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, Final

from exchangelib import Body, EWSDate, EWSDateTime, Task

from erp_exchange_plugin.ews.properties import register
from erp_exchange_plugin.hookspecs import hookimpl
from erp_exchange_plugin.item_types.text import clean
from erp_exchange_plugin.item_types.values import (
    body_text,
    categories,
    choice,
    date_value,
    datetime_value,
    whole_number,
)
from erp_exchange_plugin.plugin_types import EwsMapping, ItemType, RecordInvalid

register()  # erp_id / erp_installation on Task

STATUS: Final = {
    "not_started": "NotStarted",
    "in_progress": "InProgress",
    "completed": "Completed",
    "waiting_on_others": "WaitingOnOthers",
    "deferred": "Deferred",
}
IMPORTANCE: Final = {"low": "Low", "normal": "Normal", "high": "High"}
FIELDS: Final = (
    "subject",
    "body",
    "start_date",
    "due_date",
    "status",
    "percent_complete",
    "importance",
    "reminder_at",
    "categories",
)

EWS_FIELDS: Final = (
    "subject",
    "body",
    "start_date",
    "due_date",
    "status",
    "percent_complete",
    "importance",
    "reminder_is_set",
    "reminder_due_by",
    "categories",
    "erp_id",
    "erp_installation",
    "last_modified_time",
)
"""The exchangelib fields we fetch (nothing else is requested)."""


def normalize(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of a task record (see the module's table and rules)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise RecordInvalid(sorted(unknown)[0], "is not a field of a task")
    status = choice("status", fields.get("status"), STATUS, "not_started")
    percent = whole_number("percent_complete", fields.get("percent_complete"), low=0, high=100) or 0
    if status == "completed":
        percent = 100
    elif percent == 100:
        status = "completed"
    elif status == "not_started":
        percent = 0
    start = date_value("start_date", fields.get("start_date"))
    due = date_value("due_date", fields.get("due_date"))
    if start is not None and due is not None and due < start:
        due = start
    return {
        "subject": clean("subject", fields.get("subject")),
        "body": clean("body", fields.get("body"), multiline=True, max_length=1_000_000),
        "start_date": start,
        "due_date": due,
        "status": status,
        "percent_complete": percent,
        "importance": choice("importance", fields.get("importance"), IMPORTANCE, "normal"),
        "reminder_at": datetime_value("reminder_at", fields.get("reminder_at"), dt.UTC),
        "categories": categories("categories", fields.get("categories")),
    }


def _ews_date(value: dt.date | None) -> EWSDate | None:
    return None if value is None else EWSDate(value.year, value.month, value.day)


def to_exchange(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Normalized task fields -> exchangelib Task attribute values (``None`` clears a field).

    Without a reminder, ``reminder_due_by`` is left out rather than cleared: Exchange requires
    it once an item exists, and with ``reminder_is_set`` false its value means nothing.
    """
    reminder = fields["reminder_at"]
    values: dict[str, Any] = {
        "subject": fields["subject"],
        "body": Body(fields["body"]) if fields["body"] else None,
        "start_date": _ews_date(fields["start_date"]),
        "due_date": _ews_date(fields["due_date"]),
        "status": STATUS[fields["status"]],
        "percent_complete": Decimal(fields["percent_complete"]),
        "importance": IMPORTANCE[fields["importance"]],
        "reminder_is_set": reminder is not None,
        "categories": list(fields["categories"]) or None,
    }
    if reminder is not None:
        values["reminder_due_by"] = EWSDateTime.from_datetime(reminder)
    return values


def _reverse(mapping: Mapping[str, str], value: Any, field: str) -> str | None:
    if value is None:
        return None
    for key, ews in mapping.items():
        if ews == value:
            return key
    raise RecordInvalid(field, f"Exchange value {value!r} is unknown")


def to_erp(item: Any) -> dict[str, Any]:
    """An exchangelib Task -> normalized task fields."""
    percent = item.percent_complete
    return normalize(
        {
            "subject": item.subject,
            "body": body_text(item.body),
            "start_date": item.start_date,
            "due_date": item.due_date,
            "status": _reverse(STATUS, item.status, "status"),
            "percent_complete": round(Decimal(percent)) if percent is not None else None,
            "importance": _reverse(IMPORTANCE, item.importance, "importance"),
            "reminder_at": item.reminder_due_by if item.reminder_is_set else None,
            "categories": list(item.categories or ()),
        }
    )


def item_type() -> ItemType:
    """The tasks item type."""
    return ItemType(
        name="tasks",
        erp_entity="task",
        description="ERP tasks <-> Exchange tasks",
        backends={
            "ews": EwsMapping(
                "tasks",
                Task,
                EWS_FIELDS,
                to_exchange,
                to_erp,
                # Exchange ties these to each other (Completed <=> 100 %, NotStarted => 0 %, due >= start)
                send_together=(
                    ("status", "percent_complete"),
                    ("start_date", "due_date"),
                    ("reminder_is_set", "reminder_due_by"),
                ),
            )
        },
        normalize=normalize,
    )


@hookimpl
def erp_exchange_item_types() -> Iterator[ItemType]:
    """The built-in tasks item type."""
    yield item_type()
