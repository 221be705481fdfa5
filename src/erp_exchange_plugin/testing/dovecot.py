"""A real Dovecot (Debian's ``dovecot-imapd``/``dovecot-pop3d``) started on loopback for tests.

:class:`Dovecot` writes a self-contained configuration into a temporary directory (nothing
from ``/etc/dovecot`` is read), makes a throw-away CA and a server certificate for
``127.0.0.1``/``localhost``, and runs ``dovecot -F -c <conf>`` in the foreground on four free
loopback ports: IMAP (with STARTTLS), IMAPS, POP3 (with STLS) and POP3S. Users live in a
passwd-file per user with a plain password; mail lives in one Maildir per user, owned by ``nobody``
(Dovecot refuses mail access as root). A user's password is also accepted as an XOAUTH2 /
OAUTHBEARER token: Dovecot 2.3 verifies the token of those mechanisms against the passdb
like a password, which proves our SASL exchange on the wire without an identity provider.

Helpers put messages straight into a user's Maildir (:meth:`Dovecot.deliver`, fast enough
for thousands of messages) and force a new UIDVALIDITY (:meth:`Dovecot.change_uidvalidity`),
the event that makes naive IMAP clients fetch a whole mailbox again.

The pytest fixtures are in :mod:`erp_exchange_plugin.testing.dovecot_fixtures`. See
the shared notes (``notes/local-servers.md``, section 3) and docs/mail.md for why the configuration looks the way it does.
"""

from __future__ import annotations

import grp
import itertools
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from erp_exchange_plugin.testing.emulator.ca import make_tls_files

MAIL_USER = "nobody"
"""The system user that owns the Maildirs (any non-root user works; ``nobody`` exists everywhere)."""
MAIL_GROUP = "nogroup"


class DovecotUnavailable(RuntimeError):
    """The ``dovecot`` binary is not installed (install ``dovecot-imapd`` and ``dovecot-pop3d``)."""


def dovecot_binary() -> str | None:
    """The path of the ``dovecot`` binary, or ``None`` when it is not installed."""
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/sbin/dovecot") if os.access(p, os.X_OK)), None
    )


@dataclass(frozen=True, slots=True)
class Ports:
    """The loopback ports of one Dovecot instance."""

    imap: int
    imaps: int
    pop3: int
    pop3s: int


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def make_ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` (for 127.0.0.1 and localhost) into ``directory``.

    The same throw-away CA as the EWS emulator's (:func:`~erp_exchange_plugin.testing.emulator.ca.make_tls_files`).

    :returns: The paths of the CA certificate, the server certificate and the server key.
    """
    files = make_tls_files(directory)
    return files.ca_file, files.cert_file, files.key_file


_CONFIG = """\
protocols = imap pop3
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = erp-test-dovecot-{imap}
log_path = {d}/dovecot.log
ssl = yes
ssl_cert = <{d}/server.pem
ssl_key = <{d}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 1
pop3_uidl_format = %08Xu%08Xv
auth_failure_delay = 0
mail_max_userip_connections = 100
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users.d/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users.d/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
    ssl = yes
  }}
}}
"""


class Dovecot:
    """One Dovecot instance on loopback, in its own directory; start it with :meth:`start` or ``with``.

    :param directory: Where the configuration, certificates, users and Maildirs go; a new
        temporary directory when ``None`` (removed again by :meth:`stop`).
    """

    def __init__(self, directory: Path | None = None) -> None:
        binary = dovecot_binary()
        if binary is None:
            raise DovecotUnavailable(
                "the dovecot binary is not installed (apt-get install dovecot-imapd dovecot-pop3d)"
            )
        self._binary = binary
        self._own_dir = directory is None
        self.directory = Path(tempfile.mkdtemp(prefix="erp-dovecot-")) if directory is None else directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)  # the auth process (user dovecot) reads the users' files
        self.host = "127.0.0.1"
        self.ports = Ports(*_free_ports(4))
        self.ca_file, self.cert_file, self.key_file = make_ca_and_server_cert(self.directory)
        self._uid = pwd.getpwnam(MAIL_USER).pw_uid
        self._gid = grp.getgrnam(MAIL_GROUP).gr_gid
        self.mail_root = self.directory / "mail"
        self.mail_root.mkdir(exist_ok=True)
        os.chown(self.mail_root, self._uid, self._gid)
        self._users: dict[str, str] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None
        (self.directory / "users.d").mkdir(exist_ok=True)
        (self.directory / "dovecot.conf").write_text(
            _CONFIG.format(
                d=self.directory,
                uid=MAIL_USER,
                gid=MAIL_GROUP,
                imap=self.ports.imap,
                imaps=self.ports.imaps,
                pop3=self.ports.pop3,
                pop3s=self.ports.pop3s,
            )
        )

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Dovecot:
        """Start ``dovecot -F`` and wait until all four ports accept connections."""
        if self._process is not None:
            return self
        self._process = subprocess.Popen(
            [self._binary, "-F", "-c", str(self.directory / "dovecot.conf")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        pending = [self.ports.imap, self.ports.imaps, self.ports.pop3, self.ports.pop3s]
        while pending:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                self._process = None
                raise RuntimeError(f"dovecot exited at start: {err.strip()} {self.log_text()[-2000:]}")
            try:
                with socket.create_connection((self.host, pending[0]), timeout=0.5):
                    pending.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"dovecot did not open its ports in {timeout} s") from None
                time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop Dovecot (SIGTERM, then SIGKILL after 10 s) and remove a temporary directory."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr:
                process.stderr.close()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log_text(self) -> str:
        """Dovecot's log so far (for a failing test's message)."""
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- users and mail ----------------------------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Add a user who can log in at once with ``password`` (also accepted as an XOAUTH2 token).

        :raises ValueError: ``name`` is not made of letters, digits, ``.``, ``_``, ``-``, or the
            password contains ``:`` or a control character, or the user exists.
        """
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
            raise ValueError(f"not a usable user name: {name!r}")
        if ":" in password or any(ord(c) < 32 for c in password):
            raise ValueError("a password in a passwd-file may not contain ':' or control characters")
        with self._lock:
            if name in self._users:
                raise ValueError(f"user {name!r} exists already")
            self._users[name] = password
            home = self.mail_root / name
            for sub in ("Maildir", "Maildir/cur", "Maildir/new", "Maildir/tmp"):
                (home / sub).mkdir(parents=True, exist_ok=True)
            for path in (home, *home.rglob("*")):
                os.chown(path, self._uid, self._gid)
            # One passwd-file per user, written once: Dovecot checks a changed passwd-file at
            # most once a second, so a user added to a shared file could not log in at once.
            tmp = self.directory / "users.d" / f".{name}.tmp"
            tmp.write_text(f"{name}:{{PLAIN}}{password}::::{home}::\n")
            tmp.replace(self.directory / "users.d" / name)

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        """The Maildir directory of ``user``'s ``folder`` (created, owned by the mail user)."""
        base = self.mail_root / user / "Maildir"
        if folder.upper() == "INBOX":
            return base
        path = base / f".{folder}"
        if not path.exists():
            for sub in ("", "cur", "new", "tmp"):
                (path / sub).mkdir(parents=True, exist_ok=True)
                os.chown(path / sub, self._uid, self._gid)
            subscriptions = base / "subscriptions"
            with subscriptions.open("a") as f:
                f.write(folder + "\n")
            os.chown(subscriptions, self._uid, self._gid)
        return path

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> Path:
        """Put ``raw`` (RFC 5322 bytes) into ``user``'s ``folder`` as a new, unread message.

        Written to ``tmp/`` and renamed into ``new/``, as a delivery agent does, so Dovecot never
        sees half a message. Line endings are kept as given (Dovecot serves LF files with CRLF).
        """
        if user not in self._users:
            raise KeyError(f"no user {user!r}")
        box = self.maildir(user, folder)
        name = f"{int(time.time())}.M{next(self._counter)}P{os.getpid()}.erptest,S={len(raw)}"
        tmp = box / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, self._uid, self._gid)
        final = box / "new" / name
        tmp.rename(final)
        return final

    def change_uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """Make Dovecot give ``user``'s ``folder`` a new UIDVALIDITY and renumber its messages.

        Removes the folder's index and UID list and writes a fresh UID list header with a
        UIDVALIDITY that differs from the old one. No client may have the folder selected.

        :returns: The new UIDVALIDITY.
        """
        box = self.maildir(user, folder)
        uidlist = box / "dovecot-uidlist"
        old = 0
        if uidlist.exists():
            header = uidlist.read_text().splitlines()[0].split()
            old = next((int(f[1:]) for f in header if f.startswith("V")), 0)
        new = max(old + 1000, int(time.time()))
        for path in box.glob("dovecot.index*"):
            path.unlink()
        # A message moved to cur/ keeps its flags in its name; Dovecot rebuilds everything else.
        uidlist.write_text(f"3 V{new} N1 G{os.urandom(16).hex()}\n")
        os.chown(uidlist, self._uid, self._gid)
        return new

    # -- TLS -----------------------------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this instance's throw-away CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))
