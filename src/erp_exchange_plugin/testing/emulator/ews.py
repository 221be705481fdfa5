"""The ``/EWS/Exchange.asmx`` endpoint: authentication, impersonation, faults, dispatch and validation.

:meth:`EwsEndpoint.handle` takes the raw POST and returns a :class:`~.reply.Reply`, or :data:`DROP` when the
connection must be closed without an answer (injected ``drop_*`` faults). With ``validate_responses`` every
response's operation element is checked against the schema; an invalid one, like an exception inside an
operation, is answered with HTTP 500 and a non-XML body starting ``EMULATOR BUG`` (so the client fails
loudly) and recorded in ``validation_errors``.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree  # type: ignore[import-untyped]

from .auth import AuthFailure, ImpersonationFault, authenticate, target_mailbox
from .clock import Clock
from .entra import EntraDirectory
from .faults import APPLIED_KINDS, DROP, FaultInjector
from .ids import SyncStateCodec
from .items import ItemError, ItemModel
from .operations import OPERATIONS, OperationContext
from .reply import Reply
from .requestlog import LogEntry, RequestLog
from .schema import EwsSchema, SchemaViolation
from .soap import SoapError, SoapRequest, envelope, fault, parse_request
from .store import Store

XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}

_ERROR_PAGE = (
    b"<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/EWS' Application.</h1>"
    b"<h2><i>Runtime Error</i></h2></body></html>"
)


_MALFORMED = (
    b'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<s:Body><m:FindItemResponse xmlns:m=&broken</s:Body>"
)
"""The body of an injected ``malformed_xml`` fault: not well-formed."""


@dataclass
class EwsEndpoint:
    """Everything the EWS face needs; shared by all request threads."""

    store: Store
    model: ItemModel
    schema: EwsSchema
    entra: EntraDirectory
    clock: Clock
    sync_codec: SyncStateCodec
    faults: FaultInjector
    log: RequestLog
    deliver: Callable[[str, bytes], object]
    api_version: str = "Exchange2016"
    realm: str = "127.0.0.1"
    validate_requests: bool = True
    validate_responses: bool = True
    validation_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._errors_lock = threading.Lock()

    def handle(self, body: bytes, headers: dict[str, str]) -> Reply:
        """Answer one POST to the EWS endpoint."""
        started = time.perf_counter()
        operation, mailbox, fault_kind = "?", None, None
        attributes: dict[str, str] = {}
        reply = DROP
        try:
            delay = self.faults.delay_seconds()
            if delay:
                time.sleep(delay)
            reply, operation, mailbox, fault_kind = self._handle(body, headers, attributes)
            return reply
        finally:
            self.log.add(
                LogEntry(
                    time.time(),
                    operation,
                    mailbox,
                    reply.status,
                    fault_kind,
                    (time.perf_counter() - started) * 1000,
                    attributes,
                )
            )

    def bug(self, text: str, detail: str) -> Reply:
        """Record an emulator bug and answer HTTP 500 with a non-XML body, so that the client fails loudly."""
        message = f"EMULATOR BUG: {text}"
        with self._errors_lock:
            self.validation_errors.append(f"{message}\n{detail}")
        return Reply(500, message.encode(), {"Content-Type": "text/plain"})

    def _fault(self, code: str, message: str, pairs: tuple[tuple[str, str], ...] = ()) -> Reply:
        return Reply(500, fault(code, message, self.api_version, pairs), dict(XML_HEADERS))

    def _handle(
        self, body: bytes, headers: dict[str, str], attributes: dict[str, str]
    ) -> tuple[Reply, str, str | None, str | None]:
        # Parsed before authentication only to name the operation in the log; a 401 still wins.
        request: SoapRequest | None = None
        parse_error = ""
        try:
            request = parse_request(body)
        except SoapError as exc:
            parse_error = str(exc)
        operation = request.name if request is not None else "?"
        if request is not None:
            attributes.update((str(k), str(v)) for k, v in request.operation.attrib.items())
        try:
            principal = authenticate(headers.get("authorization"), self.entra, self.store, self.realm)
        except AuthFailure as exc:
            return exc.reply, operation, None, None
        if request is None:
            return self._fault("ErrorSchemaValidation", parse_error), operation, None, None
        if self.validate_requests:
            try:
                self.schema.validate(request.operation)
            except SchemaViolation as exc:
                reply = self._fault(
                    "ErrorSchemaValidation",
                    "The request failed schema validation: " + str(exc),
                    (
                        ("LineNumber", str(exc.line)),
                        ("LinePosition", str(exc.column)),
                        ("Violation", str(exc)),
                    ),
                )
                return reply, operation, None, None
        try:
            with self.store.lock:
                mailbox = target_mailbox(principal, request.impersonated, self.store)
        except ImpersonationFault as exc:
            return self._fault(exc.code, exc.message), operation, request.impersonated, None
        rule = self.faults.pick(operation, mailbox.address)
        if rule is not None and rule.kind not in APPLIED_KINDS:
            if rule.kind == "server_busy":
                reply = self._fault(
                    "ErrorServerBusy",
                    "The server cannot service this request right now. Try again later.",
                    (("BackOffMilliseconds", str(rule.back_off_ms)),),
                )
            elif rule.kind == "http_500":
                reply = Reply(500, _ERROR_PAGE, {"Content-Type": "text/html; charset=utf-8"})
            elif rule.kind == "http_503":
                reply = Reply(503, b"Service Unavailable", {"Content-Type": "text/plain", "Retry-After": "1"})
            elif rule.kind == "malformed_xml":
                reply = Reply(200, _MALFORMED, dict(XML_HEADERS))
            else:
                reply = DROP
            return reply, operation, mailbox.address, rule.kind
        handler = OPERATIONS.get(operation)
        if handler is None:
            reply = self._fault("ErrorInvalidOperation", f"The EWS emulator does not implement {operation}.")
            return reply, operation, mailbox.address, None
        ctx = OperationContext(
            self.store, self.model, self.clock, self.sync_codec, principal, mailbox, request, self.deliver
        )
        if rule is not None and rule.kind == "slow":
            time.sleep(rule.delay_ms / 1000)  # an injected slow server: the client may have given up
        # One operation at a time: each EWS call is atomic and readers never see half a write.
        try:
            with self.store.lock:
                response = handler(ctx, request.operation)
        except ItemError as exc:
            return self._fault(exc.code, exc.message), operation, mailbox.address, None
        except Exception as exc:  # an emulator bug: answer loudly instead of dropping the connection
            return (
                self.bug(f"{operation} failed: {exc!r}", traceback.format_exc()),
                operation,
                mailbox.address,
                None,
            )
        if self.validate_responses:
            try:
                self.schema.validate(response)
            except SchemaViolation as exc:
                detail = etree.tostring(response).decode()[:4000]
                return (
                    self.bug(f"invalid {operation} response: {exc}", detail),
                    operation,
                    mailbox.address,
                    None,
                )
        reply = Reply(200, envelope(response, self.api_version), dict(XML_HEADERS))
        if rule is not None:
            if rule.kind == "truncated_xml":
                return (
                    Reply(200, reply.body[: len(reply.body) // 2], reply.headers),
                    operation,
                    mailbox.address,
                    rule.kind,
                )
            if rule.kind == "slow":
                return reply, operation, mailbox.address, rule.kind
            return DROP, operation, mailbox.address, rule.kind
        return reply, operation, mailbox.address, None
