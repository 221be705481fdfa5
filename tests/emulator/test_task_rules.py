"""Exchange's task rules: Completed <=> 100 %, NotStarted => 0 %, whoever sets them (client or Outlook)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchangelib import Task

from .conftest import ALICE


def test_setting_only_the_status_moves_the_percentage(account: Any, emu: Any) -> None:
    acc = account()
    task = Task(folder=acc.tasks, subject="Report", status="InProgress", percent_complete=Decimal(40))
    task.save()
    task.status = "Completed"
    task.save(update_fields=["status"])  # PercentComplete is not sent
    got = acc.tasks.get(id=task.id)
    assert (got.status, got.percent_complete, got.is_complete) == ("Completed", Decimal(100), True)
    got.status = "NotStarted"
    got.save(update_fields=["status"])
    again = acc.tasks.get(id=task.id)
    assert (again.status, again.percent_complete) == ("NotStarted", Decimal(0))


def test_outlook_setting_100_percent_completes_the_task(emu: Any) -> None:
    item_id = emu.create_item(
        ALICE, "tasks", {"Subject": "Call", "Status": "InProgress", "PercentComplete": 10}
    )
    emu.update_item(ALICE, item_id, {"PercentComplete": 100})
    fields = emu.item(ALICE, item_id).fields
    assert (fields["Status"], fields["PercentComplete"], fields["IsComplete"]) == ("Completed", "100", "true")
    emu.update_item(ALICE, item_id, {"PercentComplete": 50})
    assert emu.item(ALICE, item_id).fields["Status"] == "Completed"  # no documented rule for < 100


def test_a_create_applies_the_rules_in_request_order(emu: Any) -> None:
    item_id = emu.create_item(
        ALICE, "tasks", {"Subject": "Done", "PercentComplete": 30, "Status": "Completed"}
    )
    fields = emu.item(ALICE, item_id).fields
    assert (fields["Status"], fields["PercentComplete"]) == ("Completed", "100")
