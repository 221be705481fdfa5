"""The demo's story, step by step, each step verified against the emulator and the stub host's database.

1. A local Exchange (the emulator with its Entra ID) and an ERP (the stub host, SQLite) start; the
   host loads the plugin through its entry point ``erp = exchange``.
2. The administrator sets the tenant's OAuth triple once; Anna inherits it, Björn brings his own app
   registration, Chloé's settings are invalid and are not stored (and her ERP e-mail address is in a
   domain the administrator does not allow, so she is reported, not synced, on every tick).
3. The ERP holds a few hundred addresses, appointments (timed, all-day, a weekly series) and tasks; the
   mailboxes hold some contacts created in Outlook.
4. Timer tick 1: everything is synced both ways.
5. Edits on both sides (one of them a conflict) and deletions; timer tick 2 syncs them.
6. Mail is fetched over EWS from Anna's mailbox, and over IMAP and POP3 from a local Dovecot when
   Dovecot is installed.

Every number in the summary is checked against what the emulator and the stub host really hold.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from erp_exchange_plugin import __version__
from erp_exchange_plugin.demo.data import appointments, erp_address, mail, outlook_contact, tasks
from erp_exchange_plugin.demo.output import Progress
from erp_exchange_plugin.plugin import ExchangePlugin
from erp_exchange_plugin.settings import SECTION
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.emulator.server import Emulator
from erp_exchange_plugin.testing.wiring import emulator_tenant_settings
from erp_hookspecs import Mailbox, SettingsResult, TickReport

ALICE, BOB = "alice@example.com", "bob@example.com"
ERP_ADDRESSES = {"anna": 300, "björn": 40}
OUTLOOK_CONTACTS = {ALICE: 25, BOB: 10}
START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@dataclass
class Summary:
    """What the demo did, for the table and ``--json``; ``problems`` lists every failed check."""

    version: str = __version__
    plugin_loaded_from_entry_point: bool = False
    users: list[dict[str, Any]] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)
    mail: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def expect(self, condition: bool, problem: str) -> None:
        """Record ``problem`` unless ``condition`` holds."""
        if not condition:
            self.problems.append(problem)


def _settings_row(user_id: str, result: SettingsResult, stored: bool) -> dict[str, Any]:
    keys = ("mailbox", "tenant_id", "client_secret", "ews_url")
    return {
        "user_id": user_id,
        "ok": result.ok,
        "stored": stored,
        "effective": {k: result.effective[k] for k in keys},
        "origins": {k: str(result.origins[k]) for k in keys},
        "errors": [f"{e.level} {e.field}: {e.message}" for e in result.errors],
    }


def _tick_totals(report: TickReport) -> dict[str, Any]:
    totals: Counter[str] = Counter()
    for run in report.runs:
        for side in ("to_exchange", "to_erp"):
            for what, n in run.get(side, {}).items():
                totals[f"{side}.{what}"] += n
        totals["conflicts"] += len(run.get("conflicts", ()))
        totals["requests"] += run.get("requests", 0)
        totals["errors"] += len(run.get("errors", ()))
    return dict(totals)


class Story:
    """The demo in a temporary directory."""

    def __init__(self, directory: Path, rng: random.Random) -> None:
        self.directory = directory
        self.rng = rng
        self.summary = Summary()

    def run(self) -> Summary:
        emulator = Emulator(((ALICE, "alice-password"), (BOB, "bob-password")))
        emulator.start()
        try:
            with StubHost(self.directory / "erp", load_entry_points=["exchange"]) as host:
                try:
                    self.settings(host, emulator)
                    self.seed(host, emulator)
                    self.tick(host, START, "tick 1: first sync")
                    self.check_sides(host, emulator, "after tick 1")
                    self.edit(host, emulator)
                    self.tick(host, START + timedelta(minutes=6), "tick 2: edits both ways")
                    self.check_sides(host, emulator, "after tick 2")
                    self.check_edits(host, emulator)
                    self.fetch_ews_mail(host, emulator)
                    self.fetch_mail(host)
                finally:
                    plugin = dict(host.plugin_manager.list_name_plugin()).get("exchange")
                    if isinstance(plugin, ExchangePlugin):
                        plugin.close()
        finally:
            emulator.stop()
        return self.summary

    # -- steps ---------------------------------------------------------------------------------------

    def settings(self, host: StubHost, emu: Emulator) -> None:
        s = self.summary
        s.plugin_loaded_from_entry_point = isinstance(
            dict(host.plugin_manager.list_name_plugin()).get("exchange"), ExchangePlugin
        )
        s.expect(
            s.plugin_loaded_from_entry_point, "the plugin was not loaded from the entry point erp = exchange"
        )
        host.set_tenant_settings(
            SECTION,
            emulator_tenant_settings(
                emu, allowed_mailbox_domains=["example.com"], locked_fields=["authority_host"]
            ),
        )
        own_client, own_secret = str(uuid.uuid4()), f"bjoerns-own-secret-{uuid.uuid4().hex[:12]}"
        emu.add_app(own_client, own_secret, mailboxes=[BOB])
        users = [
            ("anna", "Anna Müller", ALICE, {}),
            ("björn", "Björn Åström", BOB,
             {"tenant_id": emu.tenant_id, "client_id": own_client, "client_secret": own_secret}),
            ("chloé", "Chloé Dubois", "chloe@gmail.com",
             {"client_id": "not-a-guid", "ews_url": "http://mail.example.com/EWS/Exchange.asmx",
              "mailbox": "chloe@gmail.com"}),
        ]  # fmt: skip
        for user_id, name, email, proposed in users:
            host.add_user(user_id, name, email)
            (result,) = [
                r for r in host.save_user_settings(user_id, SECTION, proposed) if r.section == SECTION
            ]
            stored = dict(host.settings.user_section(user_id, SECTION))
            s.expect(not result.ok or stored == proposed, f"{user_id}: valid settings were not stored")
            s.expect(result.ok or not stored, f"{user_id}: invalid settings were stored")
            s.users.append(_settings_row(user_id, result, result.ok and stored == proposed))
        s.expect(
            [u["ok"] for u in s.users] == [True, True, False], "settings outcomes differ from ok, ok, invalid"
        )

    def seed(self, host: StubHost, emu: Emulator) -> None:
        total = sum(ERP_ADDRESSES.values()) + sum(OUTLOOK_CONTACTS.values())
        bar = Progress("seeding ERP addresses and Outlook contacts", total)
        n = 0
        for user_id, count in ERP_ADDRESSES.items():
            store = host.records("address", user_id)
            for _ in range(count):
                store.put(None, erp_address(self.rng, n), None)
                n += 1
                bar.advance()
        for mailbox, count in OUTLOOK_CONTACTS.items():
            for i in range(count):
                emu.create_item(mailbox, "contacts", outlook_contact(self.rng, i))
                bar.advance()
        today = datetime.now(UTC).date()
        for fields in appointments(today):
            host.records("appointment", "anna").put(None, fields, None)
        for fields in tasks(today):
            host.records("task", "anna").put(None, fields, None)
        bar.finish()

    def tick(self, host: StubHost, now: datetime, label: str) -> None:
        bar = Progress(label, 1)
        (report,) = [r for r in host.timer_tick(now=now, budget_seconds=120) if r.plugin == "exchange"]
        bar.advance()
        bar.finish()
        totals = _tick_totals(report)
        self.summary.ticks.append({"label": label, "users": sorted({r["user_id"] for r in report.runs}),
                                   "totals": totals, "errors": list(report.errors)})  # fmt: skip
        synced = {r["user_id"] for r in report.runs if "error" not in r and not r.get("deferred")}
        self.summary.expect(synced == {"anna", "björn"}, f"{label}: synced users were {sorted(synced)}")
        self.summary.expect(totals.get("errors", 0) == 0, f"{label}: runs reported errors")
        self.summary.expect(
            any(e.startswith("chloé: settings invalid") for e in report.errors),
            f"{label}: Chloé's invalid settings were not reported",
        )

    def edit(self, host: StubHost, emu: Emulator) -> None:
        store = host.records("address", "anna")
        page = store.changes_since(None, 10_000)
        records = sorted((c.record for c in page.changes if c.record is not None), key=lambda r: r.record_id)
        edited, both, gone = records[3], records[4], records[5]
        store.put(edited.record_id, {**edited.fields, "job_title": "Geschäftsführerin"}, edited.version)
        store.put(both.record_id, {**both.fields, "job_title": "im ERP geändert"}, both.version)
        store.delete(gone.record_id, None)
        by_name = {v.fields.get("DisplayName"): v for v in emu.items(ALICE, "contacts")}
        outlook = next(v for name, v in by_name.items() if "[Outlook" in str(name))
        emu.update_item(ALICE, outlook.item_id, {"Department": "Einkauf (in Outlook)"})
        emu.clock.advance(5)  # Outlook's edit of the conflicting contact comes later: newest_wins picks it
        emu.update_item(
            ALICE, by_name[both.fields["display_name"]].item_id, {"JobTitle": "in Outlook geändert"}
        )
        bob_outlook = next(
            v for v in emu.items(BOB, "contacts") if "[Outlook" in str(v.fields.get("DisplayName"))
        )
        emu.delete_item(BOB, bob_outlook.item_id)
        self.edits = {
            "erp_edit": edited.fields["display_name"],
            "conflict": both.fields["display_name"],
            "erp_delete": gone.fields["display_name"],
            "outlook_edit": outlook.fields["DisplayName"],
            "outlook_delete": bob_outlook.fields["DisplayName"],
        }

    # -- checks ----------------------------------------------------------------------------------------

    def sides(
        self, host: StubHost, emu: Emulator, user_id: str, mailbox: str
    ) -> tuple[Counter[str], Counter[str]]:
        page = host.records("address", user_id).changes_since(None, 100_000)
        erp = Counter(c.record.fields["display_name"] for c in page.changes if c.record is not None)
        exchange = Counter(str(v.fields.get("DisplayName")) for v in emu.items(mailbox, "contacts"))
        return erp, exchange

    def check_sides(self, host: StubHost, emu: Emulator, when: str) -> None:
        final: dict[str, Any] = {}
        for user_id, mailbox in (("anna", ALICE), ("björn", BOB)):
            erp, exchange = self.sides(host, emu, user_id, mailbox)
            self.summary.expect(erp == exchange, f"{when}: {user_id}'s ERP and mailbox differ")
            self.summary.expect(
                max(erp.values(), default=1) == 1, f"{when}: {user_id} has duplicate contacts"
            )
            final[user_id] = {"erp_addresses": sum(erp.values()), "exchange_contacts": sum(exchange.values())}
        for entity, folder, key in (("appointment", "calendar", "subject"), ("task", "tasks", "subject")):
            page = host.records(entity, "anna").changes_since(None, 1000)
            erp_side = Counter(c.record.fields[key] for c in page.changes if c.record is not None)
            ex_side = Counter(str(v.fields.get("Subject")) for v in emu.items(ALICE, folder))
            self.summary.expect(
                erp_side == ex_side, f"{when}: anna's {folder} differ between the ERP and Exchange"
            )
            final["anna"][f"erp_{entity}s"] = sum(erp_side.values())
            final["anna"][f"exchange_{folder}"] = sum(ex_side.values())
        self.summary.final = final

    def check_edits(self, host: StubHost, emu: Emulator) -> None:
        e = self.edits
        exchange = {str(v.fields.get("DisplayName")): v.fields for v in emu.items(ALICE, "contacts")}
        page = host.records("address", "anna").changes_since(None, 100_000)
        erp = {c.record.fields["display_name"]: c.record.fields for c in page.changes if c.record is not None}
        s = self.summary
        s.expect(
            exchange[e["erp_edit"]].get("JobTitle") == "Geschäftsführerin",
            "the ERP edit did not reach Exchange",
        )
        s.expect(
            erp[e["outlook_edit"]].get("department") == "Einkauf (in Outlook)",
            "the Outlook edit missed the ERP",
        )
        s.expect(
            erp[e["conflict"]].get("job_title")
            == "in Outlook geändert"
            == exchange[e["conflict"]].get("JobTitle"),
            "the conflict was not resolved to the newest (Outlook) version on both sides",
        )
        s.expect(e["erp_delete"] not in exchange, "the ERP deletion did not reach Exchange")
        bob_erp, _ = self.sides(host, emu, "björn", BOB)
        s.expect(e["outlook_delete"] not in bob_erp, "the Outlook deletion did not reach the ERP")
        s.expect(
            self.summary.ticks[1]["totals"].get("conflicts") == 1,
            "tick 2 did not report exactly one conflict",
        )

    def fetch_ews_mail(self, host: StubHost, emu: Emulator) -> None:
        for n in range(4):
            emu.deliver(ALICE, mail(200 + n, ALICE))
        box = Mailbox("anna-ews", "anna", "ews", {"actions": {"mark_read": True}})
        first = host.mail_fetch(box)
        again = host.mail_fetch(box)
        stored = len(host.received_mail(mailbox_id=box.mailbox_id))
        self.summary.mail["anna-ews"] = {
            "protocol": "ews",
            "delivered": first.delivered if first else 0,
            "second_fetch_delivered": again.delivered if again else 0,
            "stored_in_host": stored,
        }
        s = self.summary
        s.expect(stored == 4, "EWS: the host does not hold Anna's 4 messages")
        s.expect(again is not None and again.delivered == 0, "EWS: a second fetch delivered again")
        unread = [v for v in emu.items(ALICE, "inbox") if v.fields.get("IsRead") != "true"]
        s.expect(not unread, "EWS: accepted messages were not marked read on the server")

    def fetch_mail(self, host: StubHost) -> None:
        from erp_exchange_plugin.testing.dovecot import Dovecot, DovecotUnavailable

        try:
            dovecot = Dovecot()  # its own directory: Dovecot's processes cannot enter a 0700 temp dir
        except (DovecotUnavailable, KeyError) as exc:
            self.summary.mail["imap/pop3"] = {"skipped": f"Dovecot is not available here ({exc})"}
            return
        with dovecot:
            dovecot.add_user("anna", "anna-mail-password")
            dovecot.add_user("bjoern", "bjoern-mail-password")
            for n in range(5):
                dovecot.deliver("anna", mail(n, "anna@example.com"))
            for n in range(3):
                dovecot.deliver("bjoern", mail(100 + n, "bjoern@example.com"))
            common = {"host": dovecot.host, "ca_file": str(dovecot.ca_file), "security": "tls"}
            boxes = [
                Mailbox("anna-imap", "anna", "imap",
                        {**common, "port": dovecot.ports.imaps, "username": "anna", "password": "anna-mail-password"}),
                Mailbox("bjoern-pop3", "björn", "pop3",
                        {**common, "port": dovecot.ports.pop3s, "username": "bjoern",
                         "password": "bjoern-mail-password"}),
            ]  # fmt: skip
            results = self.summary.mail
            for box in boxes:
                first = host.mail_fetch(box)
                again = host.mail_fetch(box)
                stored = len(host.received_mail(mailbox_id=box.mailbox_id))
                results[box.mailbox_id] = {
                    "protocol": box.protocol,
                    "delivered": first.delivered if first else 0,
                    "second_fetch_delivered": again.delivered if again else 0,
                    "stored_in_host": stored,
                }
        s = self.summary
        s.expect(
            results["anna-imap"]["stored_in_host"] == 5, "IMAP: the host does not hold Anna's 5 messages"
        )
        s.expect(
            results["bjoern-pop3"]["stored_in_host"] == 3, "POP3: the host does not hold Björn's 3 messages"
        )
        s.expect(
            all(r["second_fetch_delivered"] == 0 for r in results.values()), "a second fetch delivered again"
        )
