"""One fetched message: its idempotency key, its Message-ID, and a cheap check of its MIME structure.

The key is ``mail:<mailbox_id>:sha256:<hex digest of the raw bytes>``. Why the content and not
``UIDVALIDITY/UID``: a UIDVALIDITY change (a server migration, a rebuilt index) renumbers every
message, and a UID-based key would make every message new to the host; the raw bytes of a stored
message do not change, so the same message always gets the same key, whichever folder, UID,
protocol or run it comes from, and after a crash. The mailbox id keeps keys unique across
mailboxes, as the host contract asks. The Message-ID is not part of the key: it is optional,
and senders reuse it (a reused id must not make a different message look delivered), but it is
what the UIDVALIDITY reconciliation looks up first, because it can be fetched without the body.

The MIME check is deliberately shallow, so fetching stays fast: header defects found by
:mod:`email`'s header parser, a missing header/body separator, a multipart message without a
boundary or whose boundary or closing delimiter never appears. A message that fails it is still
delivered, raw, with the findings in ``InboundMessage.warnings``.
"""

from __future__ import annotations

import hashlib
from email import policy
from email.parser import BytesHeaderParser

_PARSER = BytesHeaderParser(policy=policy.compat32)


def digest(raw: bytes) -> str:
    """The SHA-256 hex digest of ``raw``."""
    return hashlib.sha256(raw).hexdigest()


def message_key(mailbox_id: str, content_digest: str) -> str:
    """The idempotency key of a message of ``mailbox_id`` with content digest ``content_digest``."""
    return f"mail:{mailbox_id}:sha256:{content_digest}"


def normalise_message_id(value: str | bytes | None) -> str | None:
    """``<id@host>`` as found in a header (folded, padded or not), or ``None`` when there is none."""
    if value is None:
        return None
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    text = " ".join(text.split())
    if text.lower().startswith("message-id:"):
        text = text[len("message-id:") :].strip()
    return text or None


def _split(raw: bytes) -> tuple[bytes, bytes, bool]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at >= 0:
            return raw[: at + len(sep)], raw[at + len(sep) :], True
    return raw, b"", False


def inspect(raw: bytes) -> tuple[str | None, tuple[str, ...]]:
    """Return the message's Message-ID and the warnings about its structure (empty when it looks sound)."""
    head, body, separated = _split(raw)
    headers = _PARSER.parsebytes(head)
    warnings: list[str] = []
    if not raw.strip():
        warnings.append("the message is empty")
    for defect in headers.defects:
        warnings.append(f"header defect: {type(defect).__name__}")
    if not separated and body == b"" and b":" not in raw.split(b"\n", 1)[0]:
        warnings.append("no header/body separator and the first line is not a header")
    content_type = headers.get_content_type()
    if content_type.startswith("multipart/"):
        boundary = headers.get_param("boundary")
        if not isinstance(boundary, str) or not boundary:
            warnings.append(f"{content_type} without a boundary parameter")
        else:
            delimiter = b"--" + boundary.encode("ascii", "surrogateescape")
            if delimiter not in body:
                warnings.append(f"{content_type}: the boundary never appears in the body")
            elif delimiter + b"--" not in body:
                warnings.append(f"{content_type}: the closing boundary is missing (truncated?)")
    message_id = normalise_message_id(headers.get("Message-ID"))
    return message_id, tuple(warnings)
