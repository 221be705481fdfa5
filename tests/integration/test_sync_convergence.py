"""Convergence: random edits, deletes and syncs on both sides end with both sides equal (hypothesis state machine).

Run against the real emulator and stub host; every example starts from an empty mailbox and ERP.
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from erp_exchange_plugin.item_types import contacts
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.sync.guard import DeleteGuard
from erp_exchange_plugin.sync.policy import ConflictPolicy
from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

from .conftest import ALICE

names = st.sampled_from(["Ann", "Bo", "Cy", "Di"])
titles = st.sampled_from([None, "CEO", "CTO", "Intern"])
_counter = itertools.count()


class SyncMachine(RuleBasedStateMachine):
    emu: ClassVar[Emulator]
    root: ClassVar[Path]
    policy: ClassVar[ConflictPolicy] = ConflictPolicy.NEWEST_WINS

    def __init__(self) -> None:
        super().__init__()
        self.emu.reset()
        self.host = StubHost(self.root / f"erp{next(_counter)}", load_entry_points=False)
        self.host.add_user("anna", "Anna", ALICE)
        self.host.set_tenant_settings(SECTION, emulator_tenant_settings(self.emu))
        settings_ = resolve_user(self.host, "anna").settings
        assert settings_ is not None
        self.settings = settings_
        self.service = SyncService(
            self.host,
            {"contacts": contacts.item_type()},
            guard=DeleteGuard(max_share=1.0, allow_empty=True),
            policy=self.policy,
        )
        self.store = self.host.records("address", "anna")
        self.syncs = 0

    def teardown(self) -> None:
        self.service.close()
        self.host.close()

    def erp_ids(self) -> list[str]:
        page = self.store.changes_since(None, 10_000)
        return [c.record_id for c in page.changes if not c.deleted]  # change order: the same on every replay

    def ex_ids(self) -> list[str]:
        return [v.item_id for v in self.emu.items(ALICE, "contacts")]

    @initialize(
        erp=st.lists(st.tuples(names, titles), max_size=3), ex=st.lists(st.tuples(names, titles), max_size=3)
    )
    def start_with_synced_items(
        self, erp: list[tuple[str, str | None]], ex: list[tuple[str, str | None]]
    ) -> None:
        for name, title in erp:
            self.erp_create(name, title)
        for name, title in ex:
            self.exchange_create(name, title)
        self.sync()

    @rule(name=names, title=titles)
    def erp_create(self, name: str, title: str | None) -> None:
        self.store.put(None, {"display_name": name, "job_title": title}, None)

    @rule(data=st.data(), title=titles)
    def erp_edit(self, data: st.DataObject, title: str | None) -> None:
        ids = self.erp_ids()
        if ids:
            record = self.store.get(ids[data.draw(st.integers(0, len(ids) - 1))])
            assert record is not None
            self.store.put(record.record_id, {**record.fields, "job_title": title}, record.version)

    @rule(data=st.data())
    def erp_delete(self, data: st.DataObject) -> None:
        ids = self.erp_ids()
        if ids:
            self.store.delete(ids[data.draw(st.integers(0, len(ids) - 1))], None)

    @rule(name=names, title=titles)
    def exchange_create(self, name: str, title: str | None) -> None:
        fields: dict[str, Any] = {"DisplayName": name}
        if title:
            fields["JobTitle"] = title
        self.emu.create_item(ALICE, "contacts", fields)

    @rule(data=st.data(), title=titles)
    def exchange_edit(self, data: st.DataObject, title: str | None) -> None:
        ids = self.ex_ids()
        if ids:
            self.emu.update_item(ALICE, ids[data.draw(st.integers(0, len(ids) - 1))], {"JobTitle": title})

    @rule(data=st.data())
    def exchange_delete(self, data: st.DataObject) -> None:
        ids = self.ex_ids()
        if ids:
            self.emu.delete_item(ALICE, ids[data.draw(st.integers(0, len(ids) - 1))])

    @rule()
    def sync(self) -> None:
        (report,) = self.service.sync_user(self.settings, ["contacts"])
        assert report.errors == [], report.errors
        assert report.stopped is None
        self.syncs += 1

    @precondition(lambda self: self.syncs > 0)
    @invariant()
    def no_duplicates_of_a_synced_item(self) -> None:
        pairs = self.service.state.pairs("anna", "contacts")
        ex_ids = [p.ex_id for p in pairs.values() if p.ex_id]
        assert len(ex_ids) == len(set(ex_ids))

    def sides(self) -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
        page = self.store.changes_since(None, 10_000)
        erp = Counter(
            (c.record.fields["display_name"], c.record.fields.get("job_title"))
            for c in page.changes
            if c.record is not None
        )
        ex = Counter(
            (v.fields.get("DisplayName"), v.fields.get("JobTitle") or None)
            for v in self.emu.items(ALICE, "contacts")
        )
        return erp, ex

    def check_converged(self) -> None:
        self.sync()
        (quiet,) = self.service.sync_user(self.settings, ["contacts"])
        writes = (quiet.to_exchange, quiet.to_erp)
        assert all((w.created, w.updated, w.deleted) == (0, 0, 0) for w in writes), quiet
        erp, ex = self.sides()
        assert erp == ex


@pytest.mark.parametrize(
    ("policy", "examples"),
    [(ConflictPolicy.NEWEST_WINS, 40), (ConflictPolicy.ERP_WINS, 12), (ConflictPolicy.EXCHANGE_WINS, 12)],
)
def test_random_edits_on_both_sides_converge(
    emu: Emulator, tmp_path: Path, policy: ConflictPolicy, examples: int
) -> None:
    class Machine(SyncMachine):
        def teardown(self) -> None:
            try:
                self.check_converged()
            finally:
                super().teardown()

    Machine.emu = emu
    Machine.root = tmp_path
    Machine.policy = policy
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
