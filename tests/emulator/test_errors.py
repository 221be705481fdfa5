"""Errors as Exchange sends them, not covered elsewhere: request schema validation, unsupported calls."""

from __future__ import annotations

from typing import Any

import pytest
from exchangelib import Contact, FileAttachment
from exchangelib.errors import ErrorInvalidOperation, ErrorSchemaValidation


def test_requests_are_validated_like_exchange_does(account: Any, emu: Any) -> None:
    acc = account()
    with pytest.raises(ErrorSchemaValidation, match="MaxChangesReturned"):
        list(acc.contacts.sync_items(max_changes_returned=600))  # the schema allows 1..512
    [entry] = [e for e in emu.request_log.entries() if e.operation == "SyncFolderItems"]
    assert entry.status == 500


def test_unimplemented_operation_is_a_clear_fault_not_error_invalid_request(account: Any, emu: Any) -> None:
    acc = account()
    contact = Contact(folder=acc.contacts, display_name="with attachment")
    contact.save()
    with pytest.raises(ErrorInvalidOperation, match="does not implement CreateAttachment"):
        contact.attach(FileAttachment(name="a.txt", content=b"x"))
    assert emu.request_log.count("CreateAttachment") == 1  # not re-sent once per API version
