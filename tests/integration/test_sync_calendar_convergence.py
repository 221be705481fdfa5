"""Calendar items converge: random moves across the daylight-saving change, all-day switches and
edits on both sides end with both sides equal and a quiet run (hypothesis state machine)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from erp_exchange_plugin.item_types import calendar
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.settings.host import resolve_user
from erp_exchange_plugin.sync.service import SyncService
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.items import parse_datetime
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings

from .conftest import ALICE

BERLIN = ZoneInfo("Europe/Berlin")
subjects = st.sampled_from(["A", "B", "C"])
days = st.integers(min_value=28, max_value=33)  # 28 March .. 2 April 2024: Berlin springs forward on the 31st
hours = st.integers(min_value=0, max_value=23)
shifts = st.sampled_from([-25, -1, 1, 3, 24])
_counter = itertools.count()


def _day(n: int) -> dt.date:
    return dt.date(2024, 3, 1) + dt.timedelta(days=n - 1)


class CalendarMachine(RuleBasedStateMachine):
    emu: ClassVar[Emulator]
    root: ClassVar[Path]

    def __init__(self) -> None:
        super().__init__()
        self.emu.reset()
        self.host = StubHost(self.root / f"erp{next(_counter)}", load_entry_points=False)
        self.host.add_user("anna", "Anna", ALICE)
        self.host.set_tenant_settings(
            SECTION,
            emulator_tenant_settings(
                self.emu, item_types={"calendar": {"window_past_days": 3650, "window_future_days": 3650}}
            ),
        )
        resolved = resolve_user(self.host, "anna").settings
        assert resolved is not None
        self.settings = resolved
        self.service = SyncService(self.host, {"calendar": calendar.item_type()})
        self.store = self.host.records("appointment", "anna")

    def teardown(self) -> None:
        try:
            self.sync()
            (quiet,) = self.service.sync_user(self.settings, ["calendar"])
            for counts in (quiet.to_exchange, quiet.to_erp):
                assert (counts.created, counts.updated, counts.deleted) == (0, 0, 0), quiet
            assert self.erp_side() == self.exchange_side()
        finally:
            self.service.close()
            self.host.close()

    def erp_side(self) -> Counter[tuple[Any, ...]]:
        out: Counter[tuple[Any, ...]] = Counter()
        for change in self.store.changes_since(None, 10_000).changes:
            if change.record is None:
                continue
            f = calendar.normalize(change.record.fields)
            if f["all_day"]:
                zone = ZoneInfo(f["timezone"])
                start = dt.datetime.combine(f["start"], dt.time(), zone).astimezone(dt.UTC)
                end = dt.datetime.combine(f["end"] + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
            else:
                start, end = f["start"].astimezone(dt.UTC), f["end"].astimezone(dt.UTC)
            out[(f["subject"], f["all_day"], start, end, f["location"])] += 1
        return out

    def exchange_side(self) -> Counter[tuple[Any, ...]]:
        return Counter(
            (
                v.fields["Subject"],
                v.fields["IsAllDayEvent"] == "true",
                parse_datetime(v.fields["Start"]),
                parse_datetime(v.fields["End"]),
                v.fields.get("Location"),
            )
            for v in self.emu.items(ALICE, "calendar")
        )

    def _erp_ids(self) -> list[str]:
        return [c.record_id for c in self.store.changes_since(None, 10_000).changes if not c.deleted]

    @rule(subject=subjects, day=days, hour=hours, all_day=st.booleans())
    def erp_create(self, subject: str, day: int, hour: int, all_day: bool) -> None:
        fields: dict[str, Any] = {"subject": subject, "timezone": "Europe/Berlin", "all_day": all_day}
        if all_day:
            fields.update(start=_day(day), end=_day(day))
        else:
            start = dt.datetime.combine(_day(day), dt.time(hour))
            fields.update(start=start, end=start + dt.timedelta(hours=2))
        self.store.put(None, fields, None)

    @rule(data=st.data(), shift=shifts, location=st.sampled_from([None, "Here", "There"]))
    def erp_edit(self, data: st.DataObject, shift: int, location: str | None) -> None:
        ids = self._erp_ids()
        if not ids:
            return
        record = self.store.get(ids[data.draw(st.integers(0, len(ids) - 1))])
        assert record is not None
        f = calendar.normalize(record.fields)
        if f["all_day"]:
            moved = {"start": f["start"] + dt.timedelta(days=1), "end": f["end"] + dt.timedelta(days=1)}
        else:
            delta = dt.timedelta(hours=shift)
            moved = {"start": f["start"] + delta, "end": f["end"] + delta}  # wall-clock arithmetic
        self.store.put(record.record_id, {**record.fields, **moved, "location": location}, record.version)

    @rule(subject=subjects, day=days, hour=hours)
    def exchange_create(self, subject: str, day: int, hour: int) -> None:
        start = dt.datetime.combine(_day(day), dt.time(hour), dt.UTC)
        fields = {"Subject": subject, "Start": start, "End": start + dt.timedelta(hours=1)}
        self.emu.create_item(ALICE, "calendar", fields)

    @rule(data=st.data(), shift=shifts, location=st.sampled_from([None, "Here", "Elsewhere"]))
    def exchange_edit(self, data: st.DataObject, shift: int, location: str | None) -> None:
        items = self.emu.items(ALICE, "calendar")
        if not items:
            return
        item = data.draw(st.sampled_from(items))
        changes: dict[str, Any] = {"Location": location}
        if item.fields["IsAllDayEvent"] != "true":
            delta = dt.timedelta(hours=shift)
            changes.update(
                Start=parse_datetime(item.fields["Start"]) + delta,
                End=parse_datetime(item.fields["End"]) + delta,
            )
        self.emu.update_item(ALICE, item.item_id, changes)

    @rule()
    def sync(self) -> None:
        (report,) = self.service.sync_user(self.settings, ["calendar"])
        assert report.errors == [], report.errors


def test_calendar_edits_across_daylight_saving_converge(emu: Emulator, tmp_path: Path) -> None:
    CalendarMachine.emu = emu
    CalendarMachine.root = tmp_path
    run_state_machine_as_test(
        CalendarMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
