"""One sync run for one user and one item type.

A run, in order (DESIGN.md section 5):

1. **Recover** what a crashed run may have written: every create is announced in the intent
   journal before it happens; an Exchange item carrying our ERP id and installation id, or an
   unpaired ERP record with the announced content, is adopted instead of written again.
2. **Pull** Exchange's changes with SyncFolderItems from the stored sync state, one page (up to
   512 changes) at a time. Each change is compared with the pair's fingerprints: our own writes
   coming back change nothing (no echo); a change on one side is copied to the other; a change
   on both sides is a conflict resolved by the policy and logged. The page's ERP writes, the
   pairs and the new sync state are committed together.
3. **Push** the ERP's changes since the stored cursor, a page at a time, as bulk creates and
   updates (chunks of 100); pairs and the cursor are committed together. When the run wrote to
   Exchange, one more pull consumes the echoes of its own writes, so the stored sync state is
   past them (Exchange folds "created then deleted" after an old sync state into nothing).
4. **Delete** what one side deleted on the other side, unless the deletion guard stops it: a
   deletion is first recorded as pending, and only applied when the run's total stays under the
   guard's limits. An edit always wins over a deletion: nothing edited is lost.

An invalid sync state (``ErrorInvalidSyncStateData``) leads to a full resync that matches
items by their stamped ERP id and by the pairs' item ids, never to copies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from exchangelib import errors as ex

from erp_exchange_plugin.errors import ExchangeError
from erp_exchange_plugin.ews import transport
from erp_exchange_plugin.log import get_logger
from erp_exchange_plugin.plugin_types import EwsMapping, ItemType, RecordInvalid
from erp_exchange_plugin.state import Cursor, Pair, StateStore
from erp_exchange_plugin.state.store import UNLOADED
from erp_exchange_plugin.sync.exchange import Change, ExchangeFolder
from erp_exchange_plugin.sync.guard import DeleteGuard
from erp_exchange_plugin.sync.merge import snapshot, three_way
from erp_exchange_plugin.sync.policy import DEFAULT_POLICY, EXCHANGE, ConflictPolicy, Direction, winner
from erp_exchange_plugin.sync.report import RunReport
from erp_hookspecs import Alert, Alerts, Record, RecordNotFound, RecordStore, Severity, VersionConflict

log = get_logger(__name__)

CREATE_EXCHANGE = "create_exchange"
CREATE_ERP = "create_erp"
CONFIRM_EXCHANGE = "confirm_exchange"
"""An item we created that no SyncFolderItems has shown us yet. Exchange folds "created and deleted
after the stored sync state" into nothing, so if the user deletes it before a pull sees it (the echo
pull after our writes failed), only a lookup tells that it is gone."""
PENDING_ERP = "erp"
PENDING_EXCHANGE = "exchange"
ERP_PAGE = 500


class ForeignInstallation(ExchangeError):
    """Another installation of the connector already syncs this mailbox."""

    code = "sync.foreign_installation"
    permanent = True


@dataclass
class SyncJob:
    """Everything one run needs.

    :param records: The ERP record store of the item type's entity, as this user sees it.
    :param state: Our state database.
    :param folder: The item type's Exchange folder in the user's mailbox.
    """

    user_id: str
    item_type: ItemType
    records: RecordStore
    state: StateStore
    folder: ExchangeFolder
    policy: ConflictPolicy = DEFAULT_POLICY
    guard: DeleteGuard = field(default_factory=DeleteGuard)
    alerts: Alerts | None = None
    direction: Direction = Direction.BOTH
    window: tuple[datetime, datetime] | None = None
    """Items whose span (see :attr:`ItemType.span`) lies outside it are not created on the other side."""


def run_sync(job: SyncJob) -> RunReport:
    """Run one sync; per-item problems are reported, a failure of the connection is raised."""
    return _Run(job).run()


@dataclass
class _Batch:
    """What one page changes in our state, committed together."""

    pairs: dict[str, Pair | None] = field(default_factory=dict)
    forget: list[str] = field(default_factory=list)
    confirm: list[tuple[str, str]] = field(default_factory=list)
    """(erp_id, ex_id) of items we created, to be confirmed by a later pull."""
    confirmed: list[str] = field(default_factory=list)
    """Exchange ids a pull has shown us."""


class _Run:
    def __init__(self, job: SyncJob) -> None:
        self.job = job
        self.u = job.user_id
        self.t = job.item_type.name
        mapping = job.item_type.backends["ews"]
        assert isinstance(mapping, EwsMapping)
        self.mapping: EwsMapping = mapping
        self.installation = job.state.installation_id
        self.report = RunReport(user_id=self.u, item_type=self.t)
        self.pairs = job.state.pairs(self.u, self.t)
        self.by_ex = {p.ex_id: p.erp_id for p in self.pairs.values() if p.ex_id}
        self.log = log.bind(user_id=self.u, item_type=self.t)
        self.to_exchange = job.direction is not Direction.EXCHANGE_TO_ERP
        self.to_erp = job.direction is not Direction.ERP_TO_EXCHANGE
        self.policy = {
            Direction.BOTH: job.policy,
            Direction.ERP_TO_EXCHANGE: ConflictPolicy.ERP_WINS,
            Direction.EXCHANGE_TO_ERP: ConflictPolicy.EXCHANGE_WINS,
        }[job.direction]

    # -- helpers -----------------------------------------------------------------------------------

    def fp(self, fields: Mapping[str, Any]) -> str:
        return self.job.item_type.fingerprint(fields)

    def erp_fields(self, record: Record) -> dict[str, Any] | None:
        try:
            return self.job.item_type.normalize(record.fields)
        except RecordInvalid as exc:
            self.report.errors.append(f"ERP record {record.record_id}: {exc}; left alone until it is fixed")
            return None

    def ex_fields(self, change: Change) -> dict[str, Any] | None:
        try:
            return dict(self.mapping.to_erp(change.item))
        except RecordInvalid as exc:
            name = getattr(change.item, "display_name", None) or getattr(change.item, "subject", None) or ""
            self.report.errors.append(f"Exchange item {name!r}: {exc}; left alone until it is fixed")
            return None

    def in_window(self, fields: Mapping[str, Any]) -> bool:
        """False for an item outside the sync window (never created on the other side)."""
        span_of = self.job.item_type.span
        if self.job.window is None or span_of is None:
            return True
        span = span_of(fields)
        if span is None:
            return True
        start, end = self.job.window
        return span[1] >= start and span[0] <= end

    def stage(self, batch: _Batch, pair: Pair) -> None:
        old = self.pairs.get(pair.erp_id)
        if old is not None and old.ex_id and old.ex_id != pair.ex_id:
            self.by_ex.pop(old.ex_id, None)
        self.pairs[pair.erp_id] = pair
        if pair.ex_id:
            self.by_ex[pair.ex_id] = pair.erp_id
        batch.pairs[pair.erp_id] = pair

    def unstage(self, batch: _Batch, erp_id: str) -> None:
        old = self.pairs.pop(erp_id, None)
        if old is not None and old.ex_id:
            self.by_ex.pop(old.ex_id, None)
        batch.pairs[erp_id] = None

    def commit(self, batch: _Batch, cursor: Cursor | None) -> None:
        state = self.job.state
        if (
            not batch.pairs
            and not batch.forget
            and not batch.confirm
            and not batch.confirmed
            and (cursor is None or cursor == state.cursor(self.u, self.t))
        ):
            return  # nothing to write: no transaction, no fsync (a no-change run writes nothing)
        with state.transaction():
            for erp_id, pair in batch.pairs.items():
                if pair is None:
                    state.delete_pair(self.u, self.t, erp_id)
                else:
                    state.put_pair(pair)
            for intent_id in batch.forget:
                state.forget_intent(intent_id)
            for erp_id, ex_id in batch.confirm:
                state.journal(self.u, self.t, CONFIRM_EXCHANGE, erp_id=erp_id, ex_id=ex_id)
            if batch.confirmed:
                state.forget_intents_for(self.u, self.t, CONFIRM_EXCHANGE, batch.confirmed)
            if cursor is not None:
                state.put_cursor(self.u, self.t, cursor)
        for erp_id, pair in batch.pairs.items():
            # committed: drop the content from memory (50,000 contacts would hold ~60 MB of it)
            if pair is not None and pair.content != UNLOADED and self.pairs.get(erp_id) is pair:
                self.pairs[erp_id] = replace(pair, content=UNLOADED)

    def alert(self, code: str, message: str) -> None:
        if self.job.alerts is not None:
            self.job.alerts.raise_alert(
                Alert(code=code, message=message, severity=Severity.ERROR, user_id=self.u, for_admin=True)
            )

    def exchange_values(self, fields: Mapping[str, Any], erp_id: str | None = None) -> dict[str, Any]:
        values = dict(self.mapping.to_exchange(fields))
        if erp_id is not None:
            values["erp_id"] = erp_id
            values["erp_installation"] = self.installation
        return values

    # -- the run -----------------------------------------------------------------------------------

    def run(self) -> RunReport:
        before = transport.requests_sent()
        try:
            self.recover()
            cursor = self.job.state.cursor(self.u, self.t)
            if cursor.ex_sync_state is None and not self.pairs:
                self.refuse_foreign()
            try:
                self.pull(full=False)
            except ex.ErrorInvalidSyncStateData:
                self.log.warning("sync state invalid, full resync")
                self.report.full_resync = True
                self.pull(full=True)
            self.push()
            self.apply_deletes()
            ours = self.report.to_exchange
            if ours.created or ours.updated or ours.deleted:
                # consume the echoes of our own writes now: a later delete of an item we created
                # would otherwise be folded by Exchange into "never existed" for our old sync state
                self.pull(full=False, echo=True)
        except ForeignInstallation as exc:
            self.report.stopped = exc.message
            self.alert(exc.code, exc.message)
        finally:
            self.report.requests = transport.requests_sent() - before
        self.log.info("sync run done", **self.report.as_dict())
        return self.report

    def refuse_foreign(self) -> None:
        item = self.job.folder.foreign_item(self.installation)
        if item is not None:
            raise ForeignInstallation(
                f"mailbox of {self.u}: its {self.mapping.folder} are already synced by another installation of "
                f"the connector ({item.erp_installation}); this installation ({self.installation}) will not "
                "write there",
                hint="sync a mailbox from one ERP installation only; remove the other connection first",
            )

    # -- 1. recovery -------------------------------------------------------------------------------

    def recover(self) -> None:
        intents = self.job.state.intents(self.u, self.t)
        if not intents:
            return
        batch = _Batch()
        to_exchange = [i for i in intents if i.op == CREATE_EXCHANGE and i.erp_id]
        found = self.job.folder.find_by_erp_ids([i.erp_id for i in to_exchange if i.erp_id])
        for intent in to_exchange:
            item = found.get(intent.erp_id or "")
            if item is not None and item.erp_installation == self.installation and intent.erp_id:
                fields = self.mapping.to_erp(item)
                self.stage(
                    batch,
                    Pair(
                        self.u,
                        self.t,
                        intent.erp_id,
                        intent.erp_version,
                        intent.fingerprint,
                        item.id,
                        item.changekey,
                        self.fp(fields),
                        content=snapshot(fields),
                    ),
                )
                self.report.recovered += 1
            batch.forget.append(intent.intent_id)
        to_erp = [i for i in intents if i.op == CREATE_ERP and i.ex_id]
        if to_erp:
            wanted: dict[str, list[Any]] = {}
            for intent in to_erp:
                wanted.setdefault(intent.fingerprint or "", []).append(intent)
            for record in self.unpaired_erp_records():
                normalized = self.erp_fields(record)
                candidates = wanted.get(self.fp(normalized)) if normalized is not None else None
                if candidates:
                    intent = candidates.pop(0)
                    self.stage(
                        batch,
                        Pair(
                            self.u,
                            self.t,
                            record.record_id,
                            record.version,
                            intent.fingerprint,
                            intent.ex_id,
                            None,
                            intent.fingerprint,
                        ),
                    )
                    self.report.recovered += 1
            batch.forget.extend(i.intent_id for i in to_erp)
        confirms = [i for i in intents if i.op == CONFIRM_EXCHANGE and i.ex_id]
        if confirms:
            lookups = [Change("update", i.ex_id or "", None, None) for i in confirms]
            present = {c.ex_id for c in self.job.folder.fetch(lookups)}
            for intent in confirms:
                if intent.ex_id not in present:  # deleted in Exchange before any pull showed it to us
                    self.pulled_delete(batch, Change("delete", intent.ex_id or "", None, None))
                    batch.forget.append(intent.intent_id)
        batch.forget.extend(
            i.intent_id for i in intents if i.op not in (CREATE_EXCHANGE, CREATE_ERP, CONFIRM_EXCHANGE)
        )
        self.commit(batch, None)
        if self.report.recovered:
            self.log.info("adopted what a crashed run wrote", count=self.report.recovered)

    def unpaired_erp_records(self) -> Iterator[Record]:
        cursor = self.job.state.cursor(self.u, self.t).erp_cursor
        while True:
            page = self.job.records.changes_since(cursor, ERP_PAGE)
            for change in page.changes:
                if not change.deleted and change.record is not None and change.record_id not in self.pairs:
                    yield change.record
            cursor = page.cursor
            if not page.more:
                return

    # -- 2. pull -----------------------------------------------------------------------------------

    def pull(self, *, full: bool, echo: bool = False) -> None:
        """Read Exchange's changes. ``echo``: right after our own writes, ask for ids only and fetch
        the fields of just the changes that are not our writes (same item id and change key)."""
        state = None if full else self.job.state.cursor(self.u, self.t).ex_sync_state
        seen: set[str] = set()
        for page in self.job.folder.pages(state, ids_only=echo):
            seen_now = [c.ex_id for c in page.changes if c.kind != "delete"]
            if echo:
                page = replace(page, changes=self.without_our_echoes(page.changes))
            batch = _Batch(confirmed=seen_now)
            creates: list[tuple[Change, dict[str, Any], str, Pair | None]] = []
            ex_updates: list[tuple[Pair, Record, dict[str, Any], str]] = []
            for change in page.changes:
                seen.add(change.ex_id)
                if change.kind == "delete":
                    self.pulled_delete(batch, change)
                else:
                    self.pulled_change(batch, change, creates, ex_updates)
            self.create_in_erp(batch, creates)
            self.update_exchange(batch, [(p, fields, fp) for p, _r, fields, fp in ex_updates])
            erp_cursor = self.job.state.cursor(self.u, self.t).erp_cursor
            self.commit(batch, Cursor(erp_cursor, page.sync_state))
        if full:
            batch = _Batch()
            for pair in list(self.pairs.values()):
                if pair.ex_id and pair.ex_id not in seen and pair.pending_delete is None:
                    self.stage(batch, replace(pair, pending_delete=PENDING_ERP))
            self.commit(batch, None)

    def without_our_echoes(self, changes: list[Change]) -> list[Change]:
        """Drop the creates/updates that are exactly our writes; fetch the fields of the others (in order)."""
        unknown: list[Change] = []
        for change in changes:
            if change.kind == "delete":
                continue
            erp_id = self.by_ex.get(change.ex_id)
            pair = self.pairs.get(erp_id) if erp_id is not None else None
            if pair is None or pair.ex_change_key != change.change_key or pair.ex_fp is None:
                unknown.append(change)
        fetched = {c.ex_id: c for c in self.job.folder.fetch(unknown)} if unknown else {}
        return [
            c if c.kind == "delete" else fetched[c.ex_id]
            for c in changes
            if c.kind == "delete" or c.ex_id in fetched
        ]

    def pulled_delete(self, batch: _Batch, change: Change) -> None:
        erp_id = self.by_ex.get(change.ex_id)
        if erp_id is None:
            return
        pair = self.pairs[erp_id]
        if not self.to_erp:
            # one-way to Exchange: a deletion in Outlook is left alone; the ERP's next change re-creates it
            self.stage(batch, replace(pair, ex_id=None, ex_change_key=None, ex_fp=None, pending_delete=None))
            return
        record = self.job.records.get(erp_id)
        if record is None:
            self.unstage(batch, erp_id)
            return
        fields = self.erp_fields(record)
        if fields is not None and self.fp(fields) != pair.erp_fp:
            self.report.conflicts.append(
                f"{record.record_id}: deleted in Exchange but edited in the ERP: kept, re-created in Exchange"
            )
            self.stage(batch, replace(pair, ex_id=None, ex_change_key=None, ex_fp=None, pending_delete=None))
            return
        self.stage(batch, replace(pair, pending_delete=PENDING_ERP))

    def pulled_change(
        self,
        batch: _Batch,
        change: Change,
        creates: list[tuple[Change, dict[str, Any], str, Pair | None]],
        ex_updates: list[tuple[Pair, Record, dict[str, Any], str]],
    ) -> None:
        fields = self.ex_fields(change)
        if fields is None:
            return
        ex_fp = self.fp(fields)
        item = change.item
        erp_id = self.by_ex.get(change.ex_id)
        stamped = getattr(item, "erp_id", None)
        if erp_id is None and stamped:
            owner = getattr(item, "erp_installation", None)
            if owner not in (None, self.installation):
                raise ForeignInstallation(
                    f"mailbox of {self.u}: item {stamped!r} was written by another installation ({owner})",
                    hint="sync a mailbox from one ERP installation only",
                )
            if stamped in self.pairs:
                erp_id = stamped
            elif self.job.records.get(stamped) is not None:
                erp_id = stamped
                self.pairs[stamped] = Pair(self.u, self.t, stamped, None, None, None, None, None)
        if erp_id is None:
            if self.to_erp and self.in_window(fields):
                creates.append((change, fields, ex_fp, None))
            return
        pair = self.pairs[erp_id]
        if not self.to_erp:
            # one-way to Exchange: an edit in Outlook is left alone; the ERP's next change wins
            self.stage(batch, replace(pair, ex_id=change.ex_id, ex_change_key=change.change_key, ex_fp=ex_fp))
            return
        if ex_fp == pair.ex_fp:
            if pair.ex_change_key != change.change_key or pair.ex_id != change.ex_id:
                self.stage(batch, replace(pair, ex_id=change.ex_id, ex_change_key=change.change_key))
            return
        record = self.job.records.get(erp_id)
        if record is None:
            self.report.conflicts.append(
                f"{erp_id}: deleted in the ERP but edited in Exchange: kept, re-created in the ERP"
            )
            creates.append((change, fields, ex_fp, pair))
            return
        erp_fields = self.erp_fields(record)
        if erp_fields is None:
            return
        erp_fp = self.fp(erp_fields)
        if erp_fp == ex_fp:
            self.stage(batch, self.in_sync(pair, change, ex_fp, record, erp_fields))
            return
        if erp_fp != pair.erp_fp:
            fields = self.resolve_conflict(pair, record, erp_fields, item, fields)
            target_fp = self.fp(fields)
            pair = replace(pair, ex_id=change.ex_id, ex_change_key=change.change_key, ex_fp=ex_fp)
            self.stage(batch, pair)
            if target_fp != ex_fp:
                ex_updates.append((pair, record, fields, target_fp))
            if target_fp == erp_fp:
                return
        self.write_erp(batch, pair, record, change, fields, ex_fp)

    def resolve_conflict(
        self, pair: Pair, record: Record, erp_fields: dict[str, Any], item: Any, ex_fields: dict[str, Any]
    ) -> dict[str, Any]:
        """Both sides changed: merge field by field against the last synced content; the policy
        decides only the fields changed on both sides differently. Returns the fields both sides get."""
        erp_id = record.record_id
        side = winner(self.policy, record.modified_at, getattr(item, "last_modified_time", None))
        kept = "Exchange" if side == EXCHANGE else "ERP"
        content = self.content_of(pair)
        base = json.loads(content) if content else None
        if base is None:
            self.report.conflicts.append(
                f"{erp_id}: changed on both sides; {self.policy.value} -> {kept} version kept"
            )
            self.log.info("conflict", erp_id=erp_id, policy=self.policy.value, winner=side, fields="all")
            return ex_fields if side == EXCHANGE else erp_fields
        merged, clashes = three_way(base, erp_fields, ex_fields)
        for key, (erp_value, ex_value) in clashes.items():
            merged[key] = ex_value if side == EXCHANGE else erp_value
        try:
            result = self.job.item_type.normalize(merged)
        except RecordInvalid:
            result = ex_fields if side == EXCHANGE else erp_fields
            clashes = dict.fromkeys(sorted(set(erp_fields) | set(ex_fields)), (None, None))
        if clashes:
            names = ", ".join(sorted(clashes))
            self.report.conflicts.append(
                f"{erp_id}: changed on both sides; {names}: {self.policy.value} -> {kept} value kept, "
                "other fields merged"
            )
        else:
            self.report.conflicts.append(f"{erp_id}: changed on both sides in different fields: merged")
        self.log.info(
            "conflict", erp_id=erp_id, policy=self.policy.value, winner=side, fields=sorted(clashes)
        )
        return result

    def write_erp(
        self, batch: _Batch, pair: Pair, record: Record, change: Change, fields: dict[str, Any], ex_fp: str
    ) -> None:
        try:
            written = self.job.records.put(record.record_id, {**record.fields, **fields}, record.version)
        except (VersionConflict, RecordNotFound) as exc:
            self.report.errors.append(f"{record.record_id}: the ERP changed it meanwhile ({exc}); next run")
            return
        self.report.to_erp.updated += 1
        self.stage(batch, self.in_sync(pair, change, ex_fp, written, self.erp_fields(written)))

    def in_sync(
        self, pair: Pair, change: Change, ex_fp: str, record: Record, erp_fields: dict[str, Any] | None
    ) -> Pair:
        """``pair`` once the ERP record holds what the Exchange change holds."""
        return replace(
            pair,
            ex_id=change.ex_id,
            ex_change_key=change.change_key,
            ex_fp=ex_fp,
            erp_version=record.version,
            erp_fp=self.fp(erp_fields) if erp_fields is not None else None,
            pending_delete=None,
            content=snapshot(erp_fields) if erp_fields is not None else None,
        )

    def create_in_erp(
        self, batch: _Batch, creates: list[tuple[Change, dict[str, Any], str, Pair | None]]
    ) -> None:
        if not creates:
            return
        state = self.job.state
        with state.transaction():
            intents = [
                state.journal(self.u, self.t, CREATE_ERP, ex_id=c.ex_id, fingerprint=fp)
                for c, _, fp, _ in creates
            ]
        for (change, fields, ex_fp, old), intent in zip(creates, intents, strict=True):
            written = self.job.records.put(None, fields, None)
            self.report.to_erp.created += 1
            if old is not None:
                self.unstage(batch, old.erp_id)
            erp_fields = self.erp_fields(written)
            self.stage(
                batch,
                Pair(
                    self.u,
                    self.t,
                    written.record_id,
                    written.version,
                    self.fp(erp_fields) if erp_fields else None,
                    change.ex_id,
                    change.change_key,
                    ex_fp,
                    content=snapshot(erp_fields) if erp_fields is not None else None,
                ),
            )
            batch.forget.append(intent.intent_id)

    # -- 3. push -----------------------------------------------------------------------------------

    def push(self) -> None:
        while True:
            cursor = self.job.state.cursor(self.u, self.t)
            page = self.job.records.changes_since(cursor.erp_cursor, ERP_PAGE)
            batch = _Batch()
            creates: list[tuple[Record, dict[str, Any], str]] = []
            updates: list[tuple[Pair, dict[str, Any], str]] = []
            for change in page.changes:
                pair = self.pairs.get(change.record_id)
                if change.deleted or change.record is None:
                    if self.to_exchange:
                        self.pushed_delete(batch, pair)
                    continue
                record = change.record
                fields = self.erp_fields(record)
                if fields is None:
                    continue
                fp = self.fp(fields)
                if not self.to_exchange:
                    # one-way to the ERP: an ERP edit is left alone; Exchange's next change wins
                    if pair is not None:
                        self.stage(batch, replace(pair, erp_version=record.version, erp_fp=fp))
                    continue
                if pair is None or pair.ex_id is None:
                    if pair is not None or self.in_window(fields):
                        creates.append((record, fields, fp))
                elif pair.pending_delete == PENDING_ERP:
                    if fp != pair.erp_fp:
                        self.report.conflicts.append(
                            f"{record.record_id}: deleted in Exchange but edited in the ERP: kept, re-created in Exchange"
                        )
                        self.unstage(batch, record.record_id)
                        creates.append((record, fields, fp))
                    elif pair.erp_version != record.version:
                        self.stage(batch, replace(pair, erp_version=record.version))
                elif pair.pending_delete == PENDING_EXCHANGE:
                    continue
                elif fp == pair.erp_fp:
                    if pair.erp_version != record.version:
                        self.stage(batch, replace(pair, erp_version=record.version))
                else:
                    pair = replace(pair, erp_version=record.version)
                    self.stage(batch, pair)
                    updates.append((pair, fields, fp))
            self.create_in_exchange(batch, creates)
            self.update_exchange(batch, updates)
            self.commit(batch, Cursor(page.cursor, cursor.ex_sync_state))
            if not page.more:
                return

    def pushed_delete(self, batch: _Batch, pair: Pair | None) -> None:
        if pair is None:
            return
        if pair.ex_id is None or pair.pending_delete == PENDING_ERP:
            self.unstage(batch, pair.erp_id)
        else:
            self.stage(batch, replace(pair, pending_delete=PENDING_EXCHANGE))

    def create_in_exchange(self, batch: _Batch, creates: list[tuple[Record, dict[str, Any], str]]) -> None:
        if not creates:
            return
        state = self.job.state
        with state.transaction():
            intents = [
                state.journal(
                    self.u, self.t, CREATE_EXCHANGE, erp_id=r.record_id, fingerprint=fp, erp_version=r.version
                )
                for r, _, fp in creates
            ]
        results = self.job.folder.create([self.exchange_values(f, r.record_id) for r, f, _ in creates])
        for (record, fields, fp), intent, result in zip(creates, intents, results, strict=True):
            batch.forget.append(intent.intent_id)
            if isinstance(result, Exception):
                self.report.errors.append(f"{record.record_id}: Exchange refused to create it: {result}")
                continue
            self.report.to_exchange.created += 1
            batch.confirm.append((record.record_id, result.id))
            exact = self.round_trips(fields)
            self.stage(
                batch,
                Pair(
                    self.u,
                    self.t,
                    record.record_id,
                    record.version,
                    fp,
                    result.id,
                    result.changekey,
                    fp if exact else None,  # not exact: the echo pull reads it back and compares
                    content=snapshot(fields) if exact else None,
                ),
            )

    def round_trips(self, fields: Mapping[str, Any]) -> bool:
        """True when Exchange stores ``fields`` exactly: what it would give back equals them. False for
        content Exchange cannot hold as sent (for example a calendar series' read-only exceptions), whose
        echo must then be read back and compared instead of being taken for ours."""
        if self.mapping.stores_exactly is not None:
            return self.mapping.stores_exactly(fields)
        try:
            item = self.mapping.item_class(**self.mapping.to_exchange(fields))
            return self.fp(self.mapping.to_erp(item)) == self.fp(fields)
        except Exception:
            return False

    def content_of(self, pair: Pair) -> str | None:
        """The pair's content, read from the state store when the in-memory pair does not hold it."""
        if pair.content == UNLOADED:
            return self.job.state.content(self.u, self.t, pair.erp_id)
        return pair.content

    def base_of(self, pair: Pair) -> dict[str, Any] | None:
        """The content both sides held at the last sync, when Exchange still holds it."""
        content = self.content_of(pair)
        if not content:
            return None
        try:
            base = self.job.item_type.normalize(json.loads(content))
        except (RecordInvalid, ValueError):
            return None
        return base if self.fp(base) == pair.ex_fp else None

    def changed_values(self, pair: Pair, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The Exchange attributes to send: only those that differ from the last synced content, when
        Exchange still holds that content (indexed fields such as phone numbers cost about 8 times a
        plain field on the wire: notes/performance.md); else all of them."""
        values = self.exchange_values(fields)
        base = self.base_of(pair)
        if base is None:
            return values
        old = self.exchange_values(base)
        changed = {k for k, v in values.items() if k not in old or old[k] != v}
        for group in self.mapping.send_together:
            if changed & set(group):
                changed |= {k for k in group if k in values}
        return {k: v for k, v in values.items() if k in changed}

    def update_exchange(self, batch: _Batch, updates: list[tuple[Pair, dict[str, Any], str]]) -> None:
        if not updates:
            return
        sendable: list[tuple[Pair, dict[str, Any], str]] = []
        requests: list[tuple[str, str | None, dict[str, Any]]] = []
        for pair, fields, fp in updates:
            values = self.changed_values(pair, fields)
            if not values:
                self.nothing_to_send(batch, pair, fields, fp)
                continue
            sendable.append((pair, fields, fp))
            requests.append((pair.ex_id or "", pair.ex_change_key, values))
        if not requests:
            return
        results = self.job.folder.update(requests)
        for (pair, fields, fp), result in zip(sendable, results, strict=True):
            if isinstance(result, ex.ErrorIrresolvableConflict):
                self.log.info("changed in Exchange meanwhile; next run", erp_id=pair.erp_id)
                continue
            if isinstance(result, ex.ErrorItemNotFound):
                self.log.info("deleted in Exchange meanwhile; next run", erp_id=pair.erp_id)
                continue
            if isinstance(result, Exception):
                self.report.errors.append(f"{pair.erp_id}: Exchange refused the update: {result}")
                continue
            ex_id, change_key = result
            self.report.to_exchange.updated += 1
            current = self.pairs.get(pair.erp_id, pair)
            exact = self.round_trips(fields)
            self.stage(
                batch,
                replace(
                    current,
                    ex_id=ex_id,
                    ex_change_key=change_key,
                    ex_fp=fp if exact else None,  # not exact: the echo pull reads it back and compares
                    erp_fp=fp,
                    content=snapshot(fields) if exact else current.content,
                ),
            )

    def nothing_to_send(self, batch: _Batch, pair: Pair, fields: dict[str, Any], fp: str) -> None:
        """Every field Exchange can take already holds the ERP's value. If the ERP's content still
        differs, it changed what Exchange cannot hold (read-only there): Exchange's version is put back."""
        current = self.pairs.get(pair.erp_id, pair)
        if fp == current.ex_fp:
            self.stage(batch, replace(current, erp_fp=fp, content=snapshot(fields)))
            return
        base = self.base_of(current)
        record = self.job.records.get(pair.erp_id)
        if base is None or record is None:
            return
        try:
            written = self.job.records.put(record.record_id, {**record.fields, **base}, record.version)
        except (VersionConflict, RecordNotFound):
            return  # changed again meanwhile: the next run looks again
        self.report.to_erp.updated += 1
        self.log.info("ERP change Exchange cannot hold was put back", erp_id=pair.erp_id)
        written_fields = self.erp_fields(written)
        self.stage(
            batch,
            replace(
                current,
                erp_version=written.version,
                erp_fp=self.fp(written_fields) if written_fields is not None else None,
                content=snapshot(base),
            ),
        )

    # -- 4. deletions ------------------------------------------------------------------------------

    def apply_deletes(self) -> None:
        total = len(self.pairs)
        on_erp = [p for p in self.pairs.values() if p.pending_delete == PENDING_ERP]
        on_exchange = [p for p in self.pairs.values() if p.pending_delete == PENDING_EXCHANGE]
        for side, pending in (("ERP", on_erp), ("Exchange", on_exchange)):
            reason = self.job.guard.check(side, len(pending), total)
            if reason is not None:
                message = (
                    f"{self.t} of {self.u}: {reason}; nothing was deleted. Check the {side} side; if the "
                    "deletions are intended, an administrator raises the deletion guard's limit for one run"
                )
                self.report.stopped = message
                self.alert("sync.delete_guard", message)
                self.log.warning(
                    "deletion guard stopped the run", side=side, deletes=len(pending), total=total
                )
                continue
            if pending and side == "ERP":
                self.delete_in_erp(pending)
            elif pending:
                self.delete_in_exchange(pending)

    def delete_in_erp(self, pending: list[Pair]) -> None:
        batch = _Batch()
        revived: list[tuple[Record, dict[str, Any], str]] = []
        for pair in pending:
            version = pair.erp_version
            for _attempt in range(2):
                try:
                    self.job.records.delete(pair.erp_id, version)
                    self.report.to_erp.deleted += 1
                    self.unstage(batch, pair.erp_id)
                    break
                except RecordNotFound:
                    self.unstage(batch, pair.erp_id)
                    break
                except VersionConflict:
                    record = self.job.records.get(pair.erp_id)
                    fields = self.erp_fields(record) if record is not None else None
                    if record is None or fields is None:
                        break
                    fp = self.fp(fields)
                    if fp == pair.erp_fp:
                        version = record.version  # only the version moved: the content is what was deleted
                        continue
                    self.report.conflicts.append(
                        f"{pair.erp_id}: deleted in Exchange but edited in the ERP: kept, re-created in Exchange"
                    )
                    self.unstage(batch, pair.erp_id)
                    revived.append((record, fields, fp))
                    break
        self.create_in_exchange(batch, revived)
        self.commit(batch, None)

    def delete_in_exchange(self, pending: list[Pair]) -> None:
        batch = _Batch()
        results = self.job.folder.delete([p.ex_id or "" for p in pending])
        for pair, result in zip(pending, results, strict=True):
            if isinstance(result, Exception) and not isinstance(result, ex.ErrorItemNotFound):
                self.report.errors.append(f"{pair.erp_id}: Exchange refused to delete it: {result}")
                continue
            if result is True:
                self.report.to_exchange.deleted += 1
            self.unstage(batch, pair.erp_id)
        self.commit(batch, None)
