"""The HTTP reply every handler of the emulator returns, and small constructors for it.

Handlers (Entra, EWS, admin API) never touch the socket: they return a :class:`Reply`, which the server
(``server.py``) writes out. That keeps them testable and lets fault injection wrap them uniformly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """An HTTP response: status, headers (without Content-Length, which the server adds) and body."""

    status: int
    body: bytes = field(default=b"", repr=False)  # may hold tokens
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    """A JSON reply as Entra ID and the admin API send them."""
    all_headers = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store, no-cache"}
    all_headers.update(headers or {})
    return Reply(status, json.dumps(payload).encode(), all_headers)


def text_reply(status: int, text: str) -> Reply:
    """A plain-text reply (admin API errors, 404s)."""
    return Reply(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})
