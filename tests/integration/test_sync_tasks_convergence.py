"""Tasks converge: random status/percent edits on both sides, where Exchange applies its own rules
(Completed <=> 100 %, NotStarted => 0 %), end with both sides equal and a quiet run (hypothesis).
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from erp_exchange_plugin.item_types import tasks
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

from .conftest import ALICE

subjects = st.sampled_from(["Call", "Mail", "Visit"])
statuses = st.sampled_from(list(tasks.STATUS))
percents = st.sampled_from([0, 10, 50, 99, 100])
_counter = itertools.count()


class TaskMachine(RuleBasedStateMachine):
    emu: ClassVar[Emulator]
    root: ClassVar[Path]

    def __init__(self) -> None:
        super().__init__()
        self.emu.reset()
        self.host = StubHost(self.root / f"erp{next(_counter)}", load_entry_points=False)
        self.host.add_user("anna", "Anna", ALICE)
        self.host.set_tenant_settings(SECTION, emulator_tenant_settings(self.emu))
        resolved = resolve_user(self.host, "anna").settings
        assert resolved is not None
        self.settings = resolved
        self.service = SyncService(self.host, {"tasks": tasks.item_type()})
        self.store = self.host.records("task", "anna")

    def teardown(self) -> None:
        try:
            self.sync()
            (quiet,) = self.service.sync_user(self.settings, ["tasks"])
            for counts in (quiet.to_exchange, quiet.to_erp):
                assert (counts.created, counts.updated, counts.deleted) == (0, 0, 0), quiet
            assert self.erp_side() == self.exchange_side()
        finally:
            self.service.close()
            self.host.close()

    def erp_side(self) -> Counter[tuple[Any, ...]]:
        page = self.store.changes_since(None, 10_000)
        normalized = (tasks.normalize(c.record.fields) for c in page.changes if c.record is not None)
        return Counter((f["subject"], f["status"], f["percent_complete"]) for f in normalized)

    def exchange_side(self) -> Counter[tuple[Any, ...]]:
        """Exchange's tasks, canonical: Outlook may leave a pair Exchange has no rule for
        (Completed at 0 %, found by this test), which the sync promises to agree on canonically."""
        names = {ews: erp for erp, ews in tasks.STATUS.items()}
        normalized = (
            tasks.normalize(
                {
                    "subject": v.fields["Subject"],
                    "status": names[v.fields["Status"]],
                    "percent_complete": int(float(v.fields["PercentComplete"])),
                }
            )
            for v in self.emu.items(ALICE, "tasks")
        )
        return Counter((f["subject"], f["status"], f["percent_complete"]) for f in normalized)

    @rule(subject=subjects, status=statuses, percent=percents)
    def erp_create(self, subject: str, status: str, percent: int) -> None:
        self.store.put(None, {"subject": subject, "status": status, "percent_complete": percent}, None)

    @rule(data=st.data(), status=statuses, percent=percents)
    def erp_edit(self, data: st.DataObject, status: str, percent: int) -> None:
        page = self.store.changes_since(None, 10_000)
        ids = [c.record_id for c in page.changes if not c.deleted]  # change order: the same on every replay
        if ids:
            record = self.store.get(ids[data.draw(st.integers(0, len(ids) - 1))])
            assert record is not None
            changes = data.draw(st.sampled_from([{"status": status}, {"percent_complete": percent}]))
            self.store.put(record.record_id, {**record.fields, **changes}, record.version)

    @rule(subject=subjects, status=statuses, percent=percents)
    def exchange_create(self, subject: str, status: str, percent: int) -> None:
        fields = {"Subject": subject, "PercentComplete": percent, "Status": tasks.STATUS[status]}
        self.emu.create_item(ALICE, "tasks", fields)

    @rule(data=st.data(), status=statuses, percent=percents)
    def exchange_edit(self, data: st.DataObject, status: str, percent: int) -> None:
        ids = [v.item_id for v in self.emu.items(ALICE, "tasks")]
        if ids:
            changes = data.draw(
                st.sampled_from([{"Status": tasks.STATUS[status]}, {"PercentComplete": percent}])
            )
            self.emu.update_item(ALICE, ids[data.draw(st.integers(0, len(ids) - 1))], changes)

    @rule()
    def sync(self) -> None:
        (report,) = self.service.sync_user(self.settings, ["tasks"])
        assert report.errors == [], report.errors


def test_task_status_and_percent_converge(emu: Emulator, tmp_path: Path) -> None:
    TaskMachine.emu = emu
    TaskMachine.root = tmp_path
    run_state_machine_as_test(
        TaskMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
