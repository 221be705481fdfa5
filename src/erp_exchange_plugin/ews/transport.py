"""exchangelib's HTTP adapter: per-server CA trust and a per-thread request counter.

exchangelib mounts one adapter class (``BaseProtocol.HTTP_ADAPTER_CLS``) for every session and
lets ``REQUESTS_CA_BUNDLE`` decide what to trust. :class:`CaRoutingAdapter` verifies each
registered origin (scheme://host:port) against its own CA file and leaves every other origin to
requests' usual rules, so installing it changes nothing for code that registers nothing.

It also counts the HTTP requests each thread sends (:func:`requests_sent`): exchangelib sends
from the calling thread, so a sync run reads exactly how many requests it cost, retries
included.

And it hands exchangelib responses that iterate in 64 KiB chunks: exchangelib parses every
response through ``response.iter_content()``, whose default chunk is one byte, which costs about
half of a sync page's client CPU (notes/performance.md). Nothing else about the response changes,
except that a response larger than :data:`MAX_RESPONSE_BYTES` is cut off with
:class:`ResponseTooLarge` instead of being read into memory (exchangelib parses with
``huge_tree=True``, so nothing else bounds it; entities are never resolved: ``resolve_entities=False``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from requests import Response
from requests.adapters import HTTPAdapter
from requests.exceptions import ChunkedEncodingError

CHUNK_BYTES = 64 * 1024
MAX_RESPONSE_BYTES = 128 * 1024 * 1024
"""The largest EWS response read (a hostile or broken server cannot exhaust memory past it)."""


class ResponseTooLarge(ChunkedEncodingError):
    """The server sent more than :data:`MAX_RESPONSE_BYTES` in one response."""


class ResponseTruncated(ChunkedEncodingError):
    """An EWS response ended before its SOAP envelope did.

    exchangelib parses with ``recover=True``: half a SyncFolderItems page would otherwise parse as a
    shorter page with a new sync state, and the changes after the cut would be skipped for good.
    """


_lock = threading.Lock()
_ca_by_origin: dict[str, str] = {}
_counter = threading.local()


def requests_sent() -> int:
    """How many HTTP requests this thread sent through exchangelib so far."""
    return int(getattr(_counter, "n", 0))


def origin_of(url: str) -> str:
    """``https://host:port`` of ``url`` (default port made explicit)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def trust_ca_for(url: str, ca_file: Path | None) -> None:
    """Verify TLS for ``url``'s origin against ``ca_file`` (``None``: back to the default rules)."""
    with _lock:
        if ca_file is None:
            _ca_by_origin.pop(origin_of(url), None)
        else:
            _ca_by_origin[origin_of(url)] = str(ca_file)


def ca_for(url: str) -> str | None:
    """The CA file registered for ``url``'s origin, if any."""
    with _lock:
        return _ca_by_origin.get(origin_of(url))


class ChunkedResponse(Response):
    """A response whose ``iter_content()`` reads 64 KiB at a time unless told otherwise."""

    def iter_content(self, chunk_size: int | None = CHUNK_BYTES, decode_unicode: bool = False) -> Any:
        parent: Any = super()
        limit = MAX_RESPONSE_BYTES
        declared = self.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(
                f"the server announced a response of {int(declared)} bytes (at most {limit} are read)"
            )
        soap = "xml" in self.headers.get("Content-Type", "") and urlsplit(
            self.url or ""
        ).path.lower().endswith(".asmx")
        chunks = parent.iter_content(chunk_size=chunk_size, decode_unicode=decode_unicode)
        return _checked(chunks, limit, soap and not decode_unicode)


def _checked(chunks: Any, limit: int, soap: bool) -> Any:
    seen = 0
    tail = b""
    for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise ResponseTooLarge(f"the server sent more than {limit} bytes in one response")
        if soap:
            tail = (tail + chunk)[-64:]
        yield chunk
    if soap and seen and not tail.rstrip().endswith(b"Envelope>"):
        raise ResponseTruncated(f"the server's response ended before its SOAP envelope did ({seen} bytes)")


class CaRoutingAdapter(HTTPAdapter):
    """An HTTPAdapter that verifies registered origins against their own CA file and counts requests."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        _counter.n = requests_sent() + 1
        return super().send(request, *args, **kwargs)

    def build_response(self, req: Any, resp: Any) -> Response:
        response = super().build_response(req, resp)
        response.__class__ = ChunkedResponse
        return response

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        ca = ca_for(url)
        super().cert_verify(conn, url, ca if ca is not None and verify is not False else verify, cert)

    def get_connection_with_tls_context(
        self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
    ) -> Any:
        ca = ca_for(request.url)
        if ca is not None and verify is not False:
            verify = ca
        return super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)


def install() -> None:
    """Make exchangelib use :class:`CaRoutingAdapter` (idempotent)."""
    from exchangelib.protocol import BaseProtocol

    if not issubclass(BaseProtocol.HTTP_ADAPTER_CLS, CaRoutingAdapter):
        BaseProtocol.HTTP_ADAPTER_CLS = CaRoutingAdapter
