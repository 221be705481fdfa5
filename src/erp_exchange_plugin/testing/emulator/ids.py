"""Opaque ids as EWS hands them out: item and folder ids, change keys, sync states.

Ids are standard base64 like Exchange's, carry a kind marker and the owning mailbox, so the emulator can tell
a malformed id (``ErrorInvalidIdMalformed``) from an unknown one (``ErrorItemNotFound``) and from one of
another mailbox (``ErrorAccessDenied``). Sync states are base64 JSON with an HMAC, so a tampered or foreign
state is ``ErrorInvalidSyncStateData``. None of this is meant to be secure beyond that.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass

_ITEM, _FOLDER, _OCCURRENCE, _ATTACHMENT = b"EMI", b"EMF", b"EMO", b"EMA"


class MalformedId(ValueError):
    """The string is not an id this server could have issued."""


@dataclass(frozen=True)
class ParsedId:
    """What an id says: whether it is an item or a folder, its mailbox, and its unique part."""

    is_item: bool
    mailbox: str
    unique: str
    master_id: str | None = None
    occurrence: int | None = None


def new_id(mailbox: str, is_item: bool = True) -> str:
    """A fresh EwsId for an item or a folder of ``mailbox``."""
    raw = (_ITEM if is_item else _FOLDER) + uuid.uuid4().bytes + mailbox.lower().encode()
    return base64.b64encode(raw).decode()


def parse_id(value: str) -> ParsedId:
    """Decode an EwsId; raise :class:`MalformedId` if it is not one of ours."""
    try:
        raw = base64.b64decode(value.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedId(value) from None
    if len(raw) < 20 or raw[:3] not in (_ITEM, _FOLDER, _OCCURRENCE):
        raise MalformedId(value)
    tail = raw[23:] if raw[:3] == _OCCURRENCE else raw[19:]
    try:
        mailbox = tail.decode()
    except UnicodeDecodeError:
        raise MalformedId(value) from None
    if raw[:3] == _OCCURRENCE:
        master = base64.b64encode(_ITEM + raw[3:19] + tail).decode()
        return ParsedId(True, mailbox, raw[3:19].hex(), master, int.from_bytes(raw[19:23], "big"))
    return ParsedId(raw[:3] == _ITEM, mailbox, raw[3:19].hex())


def occurrence_id(master_id: str, index: int) -> str:
    """The id of occurrence ``index`` (1-based) of a recurring master."""
    raw = base64.b64decode(master_id)
    return base64.b64encode(_OCCURRENCE + raw[3:19] + index.to_bytes(4, "big") + raw[19:]).decode()


def attachment_id(item_id: str, key: str) -> str:
    """The AttachmentId of attachment ``key`` (32 hex digits) of an item."""
    raw = base64.b64decode(item_id)
    return base64.b64encode(_ATTACHMENT + raw[3:19] + bytes.fromhex(key) + raw[19:]).decode()


def parse_attachment_id(value: str) -> tuple[str, str]:
    """(item id, attachment key) of an AttachmentId; raise :class:`MalformedId` if it is not one of ours."""
    try:
        raw = base64.b64decode(value.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedId(value) from None
    if len(raw) < 36 or raw[:3] != _ATTACHMENT:
        raise MalformedId(value)
    item_id = base64.b64encode(_ITEM + raw[3:19] + raw[35:]).decode()
    return item_id, raw[19:35].hex()


def id_to_entry_id(value: str) -> bytes:
    """The raw bytes behind an EwsId (what ConvertId calls EntryId / HexEntryId)."""
    parse_id(value)
    return base64.b64decode(value)


def entry_id_to_id(raw: bytes) -> str:
    """The EwsId for raw entry-id bytes; raise :class:`MalformedId` if they are not ours."""
    value = base64.b64encode(raw).decode()
    parse_id(value)
    return value


def change_key(version: int, salt: bytes) -> str:
    """The ChangeKey for version ``version`` of an item whose per-item salt is ``salt``."""
    return base64.b64encode(b"CK" + version.to_bytes(4, "big") + salt).decode()


def new_salt() -> bytes:
    """Per-item random bytes mixed into change keys."""
    return os.urandom(10)


def change_key_version(value: str) -> int | None:
    """The version a ChangeKey names, or None if it is not a change key of ours."""
    try:
        raw = base64.b64decode(value.encode(), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16 or raw[:2] != b"CK":
        return None
    return int.from_bytes(raw[2:6], "big")


class SyncStateCodec:
    """Encodes (folder id, watermark, epoch) into an opaque, HMAC-protected SyncState string."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def encode(self, folder_id: str, watermark: int, epoch: int) -> str:
        """An opaque SyncState."""
        payload = json.dumps({"f": folder_id, "w": watermark, "e": epoch}, separators=(",", ":")).encode()
        mac = hmac.new(self.key, payload, hashlib.sha256).digest()[:16]
        return base64.b64encode(mac + payload).decode()

    def decode(self, state: str) -> tuple[str, int, int] | None:
        """(folder id, watermark, epoch), or None if the state was not issued by this server."""
        try:
            raw = base64.b64decode(state.encode(), validate=True)
        except (binascii.Error, ValueError):
            return None
        mac, payload = raw[:16], raw[16:]
        if not hmac.compare_digest(mac, hmac.new(self.key, payload, hashlib.sha256).digest()[:16]):
            return None
        try:
            data = json.loads(payload)
            return str(data["f"]), int(data["w"]), int(data["e"])
        except (ValueError, KeyError, TypeError):
            return None
