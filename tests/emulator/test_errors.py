"""Errors as Exchange sends them, not covered elsewhere: request schema validation, unsupported calls."""

from __future__ import annotations

from typing import Any

import pytest
from exchangelib.errors import ErrorInvalidOperation, ErrorSchemaValidation


def test_requests_are_validated_like_exchange_does(account: Any, emu: Any) -> None:
    acc = account()
    with pytest.raises(ErrorSchemaValidation, match="MaxChangesReturned"):
        list(acc.contacts.sync_items(max_changes_returned=600))  # the schema allows 1..512
    [entry] = [e for e in emu.request_log.entries() if e.operation == "SyncFolderItems"]
    assert entry.status == 500


def test_unimplemented_operation_is_a_clear_fault_not_error_invalid_request(account: Any, emu: Any) -> None:
    acc = account()
    with pytest.raises(ErrorInvalidOperation, match="does not implement EmptyFolder"):
        acc.contacts.empty()
    assert emu.request_log.count("EmptyFolder") == 1  # not re-sent once per API version
