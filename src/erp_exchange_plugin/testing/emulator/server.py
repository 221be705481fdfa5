"""The emulator: one HTTPS server on loopback serving a local Entra ID, EWS and the ``/_emulator/`` admin API.

:class:`Emulator` is usable in-process (``with Emulator() as emu: ...``) and from the CLI. It owns the
throw-away CA (``ca_file``), the directory (``tenant_id``, ``client_id``, ``client_secret``, ``authority``),
the mailbox store (``mailboxes``), fault injection (``faults``), the request log (``request_log``) and the
emulator clock (``clock``), and offers the seed/"edit as Outlook" API (:meth:`Emulator.deliver`,
:meth:`Emulator.create_item`, :meth:`Emulator.update_item`, :meth:`Emulator.delete_item`,
:meth:`Emulator.items`).

Connecting clients::

    app = msal.ConfidentialClientApplication(emu.client_id, client_credential=emu.client_secret,
                                             authority=emu.authority, instance_discovery=False,
                                             http_client=trusting_session(emu.ca_file))
    # exchangelib: service_endpoint=emu.ews_url, and trust_ca_in_exchangelib(emu.ca_file, emu.base_url)
    # (both helpers are in .client)
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from . import ids
from .admin import AdminApi
from .ca import make_tls_files
from .clock import Clock
from .entra import EWS_APP_ROLE, AppRegistration, EntraDirectory, Tenant
from .ews import EwsEndpoint
from .faults import DROP, FaultInjector, FaultRule, token_fault
from .items import ItemError, ItemModel, build_item
from .reply import Reply, text_reply
from .requestlog import LogEntry, RequestLog
from .schema import get_schema
from .seeding import ItemView, edit, item_element, view
from .soap import SERVER_VERSIONS, t
from .state import load_state, save_state
from .store import Folder, Mailbox, Store

DEFAULT_MAILBOXES = (("alice@example.com", "alice-password"), ("bob@example.com", "bob-password"))
MailboxSpec = str | tuple[str, str | None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    emulator: Emulator

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track open connections, so that :meth:`close_connections` can end keep-alive sessions."""
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget a connection when its handler is done with it."""
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close every open client connection (a stopped server must not go on serving keep-alive clients)."""
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; avoid 40 ms delayed ACKs
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log; the emulator keeps its own request log."""

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.emulator.route(method, self.path, body, headers)
        if reply is DROP:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def do_GET(self) -> None:
        """GET."""
        self._serve("GET")

    def do_POST(self) -> None:
        """POST."""
        self._serve("POST")

    def do_PUT(self) -> None:
        """PUT."""
        self._serve("PUT")

    def do_PATCH(self) -> None:
        """PATCH."""
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        """DELETE."""
        self._serve("DELETE")


class Emulator:
    """An EWS server with a local Entra ID on ``https://127.0.0.1:{port}``.

    :param mailboxes: addresses, or (address, password) pairs for Basic auth; default two demo mailboxes.
    :param port: 0 picks a free port.
    :param api_version: the ServerVersionInfo to announce (Exchange2010_SP2 ... Exchange2016).
    :param latency_ms: fixed latency per EWS request; ``jitter_ms`` adds uniform random jitter.
    :param validate: validate every response against the EWS schema and fail loudly (on by default).
    :param state_file: load from and save to this JSON file (keeps data, ids and secrets across restarts);
        saved on stop and, after changes, every ``autosave_seconds`` while running.
    """

    def __init__(
        self,
        mailboxes: Iterable[MailboxSpec] = DEFAULT_MAILBOXES,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        api_version: str = "Exchange2016",
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        validate: bool = True,
        validate_requests: bool = True,
        tenant_id: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        state_file: Path | str | None = None,
        autosave_seconds: float = 2.0,
        seed: int = 0,
    ) -> None:
        if api_version not in SERVER_VERSIONS:
            raise ValueError(f"api_version must be one of {', '.join(SERVER_VERSIONS)}")
        self._host, self._port = host, port
        self._state_file = Path(state_file) if state_file else None
        state = load_state(self._state_file) if self._state_file and self._state_file.exists() else None
        self._tmp = Path(tempfile.mkdtemp(prefix="ews-emulator-"))
        self._tls = make_tls_files(self._tmp)
        self.clock = Clock()
        self.store = Store()
        self.request_log = RequestLog()
        self.faults = FaultInjector(latency_ms=latency_ms, jitter_ms=jitter_ms, seed=seed)
        schema = get_schema()
        self.model = ItemModel(schema)
        sync_key = secrets.token_bytes(32)
        if state is not None:
            tenant_id, client_id = state.tenant_id, state.client_id
            client_secret, sync_key = state.client_secret, state.sync_key
        self._tenant_id = (tenant_id or str(uuid.uuid4())).lower()
        self._client_id = client_id or str(uuid.uuid4())
        self._client_secret = client_secret or secrets.token_urlsafe(30)
        self._mailbox_specs = [(m, None) if isinstance(m, str) else m for m in mailboxes]
        self.sync_codec = ids.SyncStateCodec(sync_key)
        self._httpd = _Server((host, port))
        self._httpd.emulator = self
        self._port = self._httpd.server_address[1]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._tls.cert_file, self._tls.key_file)
        self._httpd.socket = context.wrap_socket(
            self._httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        home = Tenant(self._tenant_id, domains={"emulator.onmicrosoft.com"})
        home.apps[self._client_id] = AppRegistration(self._client_id, self._client_secret)
        self.entra = EntraDirectory(self.base_url, self.clock, home)
        self.ews = EwsEndpoint(
            store=self.store,
            model=self.model,
            schema=schema,
            entra=self.entra,
            clock=self.clock,
            sync_codec=self.sync_codec,
            faults=self.faults,
            log=self.request_log,
            deliver=self.deliver,
            api_version=api_version,
            realm=host,
            validate_requests=validate_requests,
            validate_responses=validate,
        )
        self.admin = AdminApi(self)
        if state is not None:
            state.restore(self.store)
            for address in self.store.mailboxes:
                home.domains.add(address.rsplit("@", 1)[-1])
        else:
            self._seed_mailboxes()
        self._thread: threading.Thread | None = None
        self._saver: threading.Thread | None = None
        self._stopping = threading.Event()
        self._autosave_seconds = autosave_seconds

    def _seed_mailboxes(self) -> None:
        for address, password in self._mailbox_specs:
            self.add_mailbox(address, password)

    # -- life cycle -------------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Serve in a background thread (and autosave the state file, if any); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="ews-emulator", daemon=True
            )
            self._thread.start()
            if self._state_file is not None and self._autosave_seconds > 0:
                self._stopping.clear()
                self._saver = threading.Thread(
                    target=self._autosave, name="ews-emulator-autosave", daemon=True
                )
                self._saver.start()
        return self

    def _autosave(self) -> None:
        saved_seq = self.store.seq
        while not self._stopping.wait(self._autosave_seconds):
            if self.store.seq != saved_seq:
                saved_seq = self.store.seq
                self.save()

    def stop(self) -> None:
        """Stop serving, save the state file if any, remove the temporary files."""
        self._stopping.set()
        if self._saver is not None:
            self._saver.join()
            self._saver = None
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_connections()
        self.save()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def save(self) -> None:
        """Write the state file now (no-op without ``state_file``)."""
        if self._state_file is not None:
            with self.store.lock:
                save_state(
                    self._state_file,
                    self.store,
                    tenant_id=self._tenant_id,
                    client_id=self._client_id,
                    client_secret=self._client_secret,
                    sync_key=self.sync_codec.key,
                )

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Emulator(base_url={self.base_url!r}, tenant_id={self._tenant_id!r})"

    # -- connection facts -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port."""
        return self._port

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:{port}``."""
        return f"https://{self._host}:{self._port}"

    @property
    def ews_url(self) -> str:
        """The EWS endpoint for exchangelib's ``service_endpoint``."""
        return f"{self.base_url}/EWS/Exchange.asmx"

    @property
    def authority(self) -> str:
        """The msal authority of the home tenant."""
        return f"{self.base_url}/{self._tenant_id}"

    @property
    def admin_url(self) -> str:
        """The root of the admin HTTP API."""
        return f"{self.base_url}/_emulator"

    @property
    def tenant_id(self) -> str:
        """The home tenant (directory) id."""
        return self._tenant_id

    @property
    def client_id(self) -> str:
        """The app registration's client id, allowed to impersonate every mailbox."""
        return self._client_id

    @property
    def client_secret(self) -> str:
        """The app's client secret."""
        return self._client_secret

    @property
    def ca_file(self) -> str:
        """PEM file of the throw-away CA that signed the server certificate."""
        return str(self._tls.ca_file)

    @property
    def api_version(self) -> str:
        """The announced API version."""
        return self.ews.api_version

    @property
    def mailboxes(self) -> list[str]:
        """The mailbox addresses."""
        with self.store.lock:
            return list(self.store.mailboxes)

    @property
    def validation_errors(self) -> list[str]:
        """Responses that failed schema validation (always empty unless the emulator has a bug)."""
        return list(self.ews.validation_errors)

    def password(self, address: str) -> str | None:
        """The Basic-auth password of a mailbox."""
        mailbox = self.store.mailbox(address)
        return mailbox.password if mailbox else None

    def ready_info(self) -> dict[str, Any]:
        """What the CLI prints when ready (includes the client secret, by specification)."""
        return {
            "ews_url": self.ews_url,
            "authority": self.authority,
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "ca_file": self.ca_file,
            "admin_url": self.admin_url,
            "mailboxes": self.mailboxes,
            "api_version": self.api_version,
        }

    # -- directory --------------------------------------------------------------------------------------

    def add_app(
        self,
        client_id: str,
        client_secret: str,
        *,
        roles: tuple[str, ...] = (EWS_APP_ROLE,),
        mailboxes: Iterable[str] | None = None,
        tenant_id: str | None = None,
    ) -> None:
        """Register another app (in the home tenant, or in another tenant, which is created if needed)."""
        tid = (tenant_id or self._tenant_id).lower()
        tenant = self.entra.tenant(tid)
        if tenant is None:
            tenant = Tenant(tid)
            self.entra.add_tenant(tenant)
        allowed = frozenset(a.lower() for a in mailboxes) if mailboxes is not None else None
        tenant.apps[client_id] = AppRegistration(client_id, client_secret, roles, allowed)

    def revoke_tokens(self) -> None:
        """Revoke every token issued so far: EWS answers 401 until a new token is fetched."""
        self.entra.revoke_all()

    # -- faults -----------------------------------------------------------------------------------------

    def inject(self, kind: str, **kwargs: Any) -> FaultRule:
        """Add a fault rule (see :mod:`.faults`): ``inject("server_busy", operation="GetItem", count=2)``."""
        return self.faults.add(kind, **kwargs)

    def set_latency(self, latency_ms: float, jitter_ms: float = 0.0) -> None:
        """Fixed latency plus uniform jitter for every EWS request."""
        self.faults.latency_ms, self.faults.jitter_ms = latency_ms, jitter_ms

    def invalidate_sync_state(self, address: str, folder: str) -> None:
        """Make every SyncState issued for this folder invalid (ErrorInvalidSyncStateData)."""
        with self.store.lock:
            self._folder(address, folder).epoch += 1

    def reset(self) -> None:
        """Back to the initial mailboxes (empty), no faults, empty log, real time, no validation errors."""
        with self.store.lock:
            self.store.mailboxes.clear()
            self._seed_mailboxes()
        self.faults.clear()
        self.entra.reset()
        self.request_log.clear()
        self.clock.reset()
        self.ews.validation_errors.clear()

    # -- seeding and edits as Outlook would make them ---------------------------------------------------

    def _mailbox(self, address: str) -> Mailbox:
        mailbox = self.store.mailbox(address)
        if mailbox is None:
            raise KeyError(f"no mailbox {address}")
        return mailbox

    def _folder(self, address: str, path: str) -> Folder:
        try:
            return self._mailbox(address).folder(path)
        except (KeyError, StopIteration):
            raise KeyError(f"no folder {path!r} in {address}") from None

    def add_folder(self, address: str, parent: str, name: str, folder_class: str = "IPF.Note") -> str:
        """Create a subfolder as the mailbox owner would (``parent`` is a folder path); return its id."""
        with self.store.lock:
            return self.store.add_folder(
                self._mailbox(address), self._folder(address, parent), name, folder_class=folder_class
            ).folder_id

    def add_mailbox(self, address: str, password: str | None = None) -> None:
        """Create a mailbox (with its distinguished folders); its domain becomes a verified tenant domain."""
        self.store.add_mailbox(address, password)
        home = self.entra.tenant(self._tenant_id)
        if home is not None:
            home.domains.add(address.rsplit("@", 1)[-1].lower())

    def add_delegate(self, owner: str, user: str) -> None:
        """Let mailbox user ``user`` open ``owner``'s mailbox (delegate access with Basic auth)."""
        with self.store.lock:
            self._mailbox(owner).delegates.add(user.lower())

    def deliver(self, address: str, raw: bytes, folder: str = "inbox") -> str:
        """Deliver an RFC 822 message to a mailbox's folder (unread); return the new item id."""
        with self.store.lock:
            mailbox = self._mailbox(address)
            target = self._folder(address, folder)
            element = etree.Element(t("Message"))
            etree.SubElement(element, t("MimeContent")).text = base64.b64encode(raw).decode()
            item = build_item(
                self.model, element, ids.new_id(mailbox.address), mailbox.address, self.clock.now()
            )
            self.store.insert(mailbox, target, item)
            return item.item_id

    def create_item(
        self,
        address: str,
        folder: str,
        fields: Mapping[str, Any],
        *,
        kind: str | None = None,
        extended: Mapping[str, Any] | None = None,
    ) -> str:
        """Create an item as the mailbox owner would; return its id."""
        with self.store.lock:
            mailbox = self._mailbox(address)
            target = self._folder(address, folder)
            element = item_element(self.model, kind or target.default_kind, fields, extended)
            item = build_item(
                self.model, element, ids.new_id(mailbox.address), mailbox.address, self.clock.now()
            )
            self.store.insert(mailbox, target, item)
            return item.item_id

    def update_item(
        self,
        address: str,
        item_id: str,
        fields: Mapping[str, Any],
        *,
        extended: Mapping[str, Any] | None = None,
    ) -> str:
        """Edit an item as its owner would (``None`` deletes a property); return the new change key."""
        with self.store.lock:
            found = self._mailbox(address).locate(item_id)
            if found is None:
                raise ItemError("ErrorItemNotFound", item_id)
            folder, item = found
            touched = edit(self.model, item, fields, extended, self.clock.now())
            self.store.touch(folder, item, touched, content=any(k != "IsRead" for k in touched))
            return item.change_key

    def delete_item(self, address: str, item_id: str) -> None:
        """Delete an item as the mailbox owner would (hard delete)."""
        with self.store.lock:
            mailbox = self._mailbox(address)
            found = mailbox.locate(item_id)
            if found is None:
                raise ItemError("ErrorItemNotFound", item_id)
            self.store.remove(mailbox, found[0], item_id)

    def items(self, address: str, folder: str) -> list[ItemView]:
        """Snapshots of the items in a folder, oldest first."""
        with self.store.lock:
            target = self._folder(address, folder)
            return [view(item, target) for item in target.items.values()]

    def item(self, address: str, item_id: str) -> ItemView | None:
        """A snapshot of one item, or None."""
        with self.store.lock:
            found = self._mailbox(address).locate(item_id)
            return view(found[1], found[0]) if found else None

    # -- HTTP routing -----------------------------------------------------------------------------------

    def route(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        """Dispatch one HTTP request to Entra, EWS or the admin API; unexpected errors are EMULATOR BUGs."""
        try:
            return self._route(method, path, body, headers)
        except Exception as exc:
            return self.ews.bug(f"{method} {path.split('?', 1)[0]} failed: {exc!r}", traceback.format_exc())

    def _route(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        clean = path.split("?", 1)[0]
        if clean.lower() == "/ews/exchange.asmx":
            if method != "POST":
                return text_reply(405, "Method not allowed")
            return self.ews.handle(body, headers)
        if clean.startswith("/_emulator"):
            return self.admin.handle(method, path, body)
        started = time.perf_counter()
        reply: Reply | None = None
        fault_kind: str | None = None
        if method == "GET":
            reply = self.entra.handle_get(path)
        elif method == "POST" and path.split("?", 1)[0].endswith("/oauth2/v2.0/token"):
            rule = self.faults.pick("token", None)
            fault_kind = rule.kind if rule else None
            if rule is None or rule.kind == "drop_after":
                reply = self.entra.handle_token(path, body, headers)
            if rule is not None:
                reply = token_fault(rule)
        if reply is None:
            return text_reply(404, "Not found")
        operation = "token" if method == "POST" else "discovery"
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.request_log.add(LogEntry(time.time(), operation, None, reply.status, fault_kind, elapsed_ms))
        return reply

    def admin_json(self) -> dict[str, Any]:
        """The admin API's description of this emulator (no secrets)."""
        info = self.ready_info()
        info.pop("client_secret")
        return info
