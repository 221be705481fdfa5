"""Mail fetch benchmark: our IMAP and POP3 providers against the stdlib floor, IMAPClient and getmail6.

One Dovecot (erp_exchange_plugin.testing.dovecot) gets one mailbox of N messages (5,000 by
default) in the mix of /work/shared/notes/performance.md: 70 % about 4 KB of text, 25 % about
40 KB with a base64 attachment, 5 % about 400 KB. Every client reads the whole mailbox over
loopback without TLS (like for like; one extra row is our IMAP over IMAPS), side by side in one
run, rounds interleaved, medians reported:

- ``imaplib floor``: ``UID FETCH`` of 500 UIDs per command (``BODY.PEEK[]``), each message written
  to a file (no fsync);
- ``poplib floor``: ``UIDL``, then ``RETR`` each, written to a file;
- ``imapclient``: IMAPClient 4.1 fetching 500 UIDs per command into files (the library candidate);
- ``plugin imap`` / ``plugin pop3``: ``fetch_mailbox`` with the built-in providers, delivering
  through a fresh stub host's mail sink (SQLite, a commit per message) with checkpoints in a
  fresh state database;
- ``getmail6 imap`` / ``getmail6 pop3``: getmail 6 into a Maildir (one round only: it is slow).

Every run is verified: the number of messages, and for all but getmail6 (which rewrites line
endings and headers) the SHA-256 of every message against what was put into the mailbox.
The first access to a mailbox changes Dovecot's state (``new/`` -> ``cur/``, POP3 ``\\Seen``),
so an untimed pass of each protocol runs first.

Run as root on a machine with dovecot-imapd and dovecot-pop3d::

    uv run --group bench python bench/mail_bench.py            # 5,000 messages, 3 rounds
    uv run --group bench python bench/mail_bench.py --messages 1000 --rounds 1 --no-getmail

Results go to stdout as a Markdown table and to ``bench/results/mail_bench.json``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import imaplib
import json
import logging
import os
import poplib
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from erp_exchange_plugin.mail import MailCheckpoints, fetch_mailbox
from erp_exchange_plugin.manager import ExtensionManager
from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.dovecot import MAIL_GROUP, MAIL_USER, Dovecot
from erp_hookspecs import Mailbox

USER, PASSWORD = "bench", "bench-password-1"


def make_messages(n: int, seed: int = 7) -> list[bytes]:
    """The message mix of performance.md, deterministic for a seed."""
    rng = random.Random(seed)
    words = [
        bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(500)
    ]

    def text(size: int) -> bytes:
        lines, total = [], 0
        while total < size:
            line = b" ".join(rng.choice(words) for _ in range(12))
            lines.append(line)
            total += len(line) + 2
        return b"\r\n".join(lines) + b"\r\n"

    def attachment(size: int) -> bytes:
        data = base64.encodebytes(rng.randbytes(size * 3 // 4)).replace(b"\n", b"\r\n")
        return data

    out = []
    for i in range(n):
        kind = rng.random()
        head = (
            f"From: Sender {i} <sender{i}@example.com>\r\nTo: bench@example.com\r\n"
            f"Subject: benchmark message {i}\r\nMessage-ID: <bench-{i}-{seed}@example.com>\r\n"
            f"Date: Sun, 29 Nov 2026 03:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        ).encode()
        if kind < 0.70:
            out.append(head + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text(4000))
            continue
        size = 40_000 if kind < 0.95 else 400_000
        boundary = f"b-{i}-{seed}".encode()
        out.append(
            head
            + b'Content-Type: multipart/mixed; boundary="'
            + boundary
            + b'"\r\n\r\n--'
            + boundary
            + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + text(1500)
            + b"--"
            + boundary
            + b"\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            + b'Content-Disposition: attachment; filename="data.bin"\r\n\r\n'
            + attachment(size)
            + b"--"
            + boundary
            + b"--\r\n"
        )
    return out


@dataclass
class Result:
    """One timed run of one client."""

    client: str
    wall: float
    cpu: float
    messages: int
    verified: str


def timed(client: str, run: Callable[[], tuple[int, str]], children: bool = False) -> Result:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    before_cpu = resource.getrusage(who)
    start = time.perf_counter()
    count, verified = run()
    wall = time.perf_counter() - start
    after_cpu = resource.getrusage(who)
    cpu = (after_cpu.ru_utime - before_cpu.ru_utime) + (after_cpu.ru_stime - before_cpu.ru_stime)
    return Result(client, wall, cpu, count, verified)


def check(digests: list[str], expected: set[str], n: int) -> tuple[int, str]:
    if len(digests) != n or set(digests) != expected:
        raise SystemExit(
            f"verification failed: {len(digests)} messages, {len(set(digests) & expected)} match"
        )
    return len(digests), "count + sha256"


class Bench:
    def __init__(self, server: Dovecot, messages: list[bytes], workdir: Path) -> None:
        self.server = server
        self.n = len(messages)
        self.expected = {hashlib.sha256(m).hexdigest() for m in messages}
        self.workdir = workdir
        self.providers = ExtensionManager(
            entry_points=False, builtins=["erp_exchange_plugin.mail.builtin"]
        ).mail_providers
        self.runs = 0

    def _out(self, name: str) -> Path:
        self.runs += 1
        path = self.workdir / f"{name}-{self.runs}"
        path.mkdir()
        return path

    # -- floors ----------------------------------------------------------------------------------------

    def imaplib_floor(self) -> tuple[int, str]:
        out = self._out("imaplib")
        conn = imaplib.IMAP4(self.server.host, self.server.ports.imap)
        conn.login(USER, PASSWORD)
        conn.select("INBOX", readonly=True)
        uids = conn.uid("SEARCH", "ALL")[1][0].split()
        digests = []
        for start in range(0, len(uids), 500):
            chunk = b",".join(uids[start : start + 500]).decode()
            _typ, data = conn.uid("FETCH", chunk, "(UID BODY.PEEK[])")
            for item in data:
                if isinstance(item, tuple):
                    raw = item[1]
                    uid = item[0].split(b"UID ")[1].split()[0].decode()
                    (out / uid).write_bytes(raw)
                    digests.append(hashlib.sha256(raw).hexdigest())
        conn.logout()
        return check(digests, self.expected, self.n)

    def poplib_floor(self) -> tuple[int, str]:
        out = self._out("poplib")
        conn = poplib.POP3(self.server.host, self.server.ports.pop3)
        conn.user(USER)
        conn.pass_(PASSWORD)
        digests = []
        for line in conn.uidl()[1]:
            number, uidl = line.split()
            raw = b"\r\n".join(conn.retr(int(number))[1]) + b"\r\n"
            (out / uidl.decode()).write_bytes(raw)
            digests.append(hashlib.sha256(raw).hexdigest())
        conn.quit()
        return check(digests, self.expected, self.n)

    def imapclient(self) -> tuple[int, str]:
        from imapclient import IMAPClient

        out = self._out("imapclient")
        digests = []
        with IMAPClient(self.server.host, self.server.ports.imap, ssl=False) as client:
            client.login(USER, PASSWORD)
            client.select_folder("INBOX", readonly=True)
            uids = client.search("ALL")
            for start in range(0, len(uids), 500):
                for uid, data in client.fetch(uids[start : start + 500], ["BODY.PEEK[]"]).items():
                    raw = data[b"BODY[]"]
                    (out / str(uid)).write_bytes(raw)
                    digests.append(hashlib.sha256(raw).hexdigest())
        return check(digests, self.expected, self.n)

    # -- the plugin ------------------------------------------------------------------------------------

    def plugin(self, protocol: str, security: str = "none") -> tuple[int, str]:
        out = self._out(f"plugin-{protocol}")
        port = {
            ("imap", "none"): self.server.ports.imap,
            ("imap", "tls"): self.server.ports.imaps,
            ("pop3", "none"): self.server.ports.pop3,
        }[(protocol, security)]
        settings: dict[str, Any] = {
            "host": self.server.host,
            "port": port,
            "security": security,
            "username": USER,
            "password": PASSWORD,
            "ca_file": str(self.server.ca_file),
        }
        with StubHost(out / "erp", load_entry_points=False) as host:
            host.add_user("u1", "Bench")
            checkpoints = MailCheckpoints.open(host.state_location("exchange").database_url)
            report = fetch_mailbox(
                host,
                Mailbox(f"bench-{self.runs}", "u1", protocol, settings),
                self.providers,
                checkpoints=checkpoints,
            )
            assert report is not None
            if report.errors or report.delivered != self.n:
                raise SystemExit(f"plugin {protocol}: {report}")
            digests = [hashlib.sha256(m.raw).hexdigest() for m in host.received_mail()]
        return check(digests, self.expected, self.n)

    # -- getmail6 --------------------------------------------------------------------------------------

    def getmail(self, protocol: str) -> tuple[int, str]:
        out = self._out(f"getmail-{protocol}")
        maildir = out / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True)
        shutil.chown(out, MAIL_USER, MAIL_GROUP)
        for path in maildir.rglob("*"):
            shutil.chown(path, MAIL_USER, MAIL_GROUP)
        shutil.chown(maildir, MAIL_USER, MAIL_GROUP)
        retriever = "SimpleIMAPRetriever" if protocol == "imap" else "SimplePOP3Retriever"
        port = self.server.ports.imap if protocol == "imap" else self.server.ports.pop3
        rc = out / "getmailrc"
        rc.write_text(
            f"[retriever]\ntype = {retriever}\nserver = {self.server.host}\nport = {port}\n"
            f"username = {USER}\npassword = {PASSWORD}\n"
            + ('mailboxes = ("INBOX",)\n' if protocol == "imap" else "")
            + f"\n[destination]\ntype = Maildir\npath = {maildir}/\nuser = {MAIL_USER}\n"
            "\n[options]\nread_all = true\ndelete = false\nverbose = 0\nreceived = false\ndelivered_to = false\n"
        )
        getmail = Path(sys.executable).parent / "getmail"
        subprocess.run(
            [str(getmail), "--rcfile", str(rc), "--getmaildir", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        count = sum(1 for _ in (maildir / "new").iterdir())
        if count != self.n:
            raise SystemExit(f"getmail6 {protocol}: {count} messages")
        return count, "count"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-getmail", action="store_true", help="skip getmail6 (about 70 s per protocol)")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "mail_bench.json")
    args = parser.parse_args()
    # The benchmark is an application: it may configure structlog (the library never does).
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    messages = make_messages(args.messages)
    total_mb = sum(map(len, messages)) / 1e6
    print(
        f"{len(messages)} messages, {total_mb:.1f} MB; Python {sys.version.split()[0]}; {os.cpu_count()} CPUs"
    )
    workdir = Path(tempfile.mkdtemp(prefix="erp-mail-bench-"))
    workdir.chmod(0o755)
    results: dict[str, list[Result]] = {}
    try:
        with Dovecot() as server:
            server.add_user(USER, PASSWORD)
            for raw in messages:
                server.deliver(USER, raw)
            bench = Bench(server, messages, workdir)
            bench.imaplib_floor()  # first access: new/ -> cur/, index built (untimed)
            bench.poplib_floor()  # first POP3 session: \Seen flags written at QUIT (untimed)
            clients: dict[str, Callable[[], tuple[int, str]]] = {
                "imaplib floor": bench.imaplib_floor,
                "plugin imap": lambda: bench.plugin("imap"),
                "imapclient": bench.imapclient,
                "poplib floor": bench.poplib_floor,
                "plugin pop3": lambda: bench.plugin("pop3"),
                "plugin imap (IMAPS)": lambda: bench.plugin("imap", "tls"),
            }
            names = list(clients)
            for r in range(args.rounds):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    results.setdefault(name, []).append(timed(name, clients[name]))
                    shutil.rmtree(workdir, ignore_errors=True)
                    workdir.mkdir(exist_ok=True)
                print(f"round {r + 1} done", flush=True)
            if not args.no_getmail:
                for protocol in ("imap", "pop3"):
                    name = f"getmail6 {protocol}"
                    results[name] = [timed(name, lambda p=protocol: bench.getmail(p), children=True)]  # type: ignore[misc]
                    print(f"{name} done", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def median(name: str, attr: str) -> float:
        return statistics.median(getattr(x, attr) for x in results[name])

    floors = {"imap": median("imaplib floor", "wall"), "pop3": median("poplib floor", "wall")}
    rows = []
    print()
    print("| client | protocol | runs | wall s (median) | msgs/s | client CPU s | wall / floor | verified |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for name, runs in results.items():
        protocol = "pop3" if "pop" in name else "imap"
        wall = median(name, "wall")
        cpu = median(name, "cpu")
        ratio = wall / floors[protocol]
        rows.append(
            {
                "client": name,
                "protocol": protocol,
                "runs": len(runs),
                "walls": [round(x.wall, 3) for x in runs],
                "wall": round(wall, 3),
                "msgs_per_s": round(args.messages / wall, 1),
                "cpu": round(cpu, 3),
                "ratio_to_floor": round(ratio, 3),
            }
        )
        print(
            f"| {name} | {protocol.upper()} | {len(runs)} | {wall:.2f} | {args.messages / wall:,.0f} | {cpu:.2f} "
            f"| {ratio:.2f} | {runs[0].verified} |"
        )
    print()
    for protocol, client in (("imap", "plugin imap"), ("pop3", "plugin pop3")):
        ratio = median(client, "wall") / floors[protocol]
        verdict = "meets" if ratio <= 1.5 else "MISSES"
        print(f"{client}: {ratio:.2f} x the {protocol} floor's wall time ({verdict} the target of 1.5 x)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"messages": args.messages, "megabytes": round(total_mb, 1), "rows": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
