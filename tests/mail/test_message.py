"""Keys, Message-IDs, the MIME check and IMAP dates (no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from erp_exchange_plugin.mail.imap import _uid_set, encode_folder, parse_internaldate
from erp_exchange_plugin.mail.message import digest, inspect, message_key, normalise_message_id


def test_the_key_depends_on_mailbox_and_content_only() -> None:
    raw = b"Subject: a\r\n\r\nbody\r\n"
    key = message_key("m1", digest(raw))
    assert key == "mail:m1:sha256:" + digest(raw)
    assert key == message_key("m1", digest(bytes(raw)))
    assert key != message_key("m2", digest(raw))
    assert key != message_key("m1", digest(raw + b"x"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (b"", None),
        ("<a@b>", "<a@b>"),
        (b"Message-ID: <a@b>\r\n\r\n", "<a@b>"),
        (b"Message-Id:\r\n <folded@b>\r\n\r\n", "<folded@b>"),
    ],
)
def test_message_ids_are_normalised(value: str | bytes | None, expected: str | None) -> None:
    assert normalise_message_id(value) == expected


def test_the_message_id_of_the_fetch_and_of_the_parser_agree() -> None:
    raw = b"From: a@example.com\r\nMessage-Id:\r\n <folded@b>\r\n\r\nbody\r\n"
    assert inspect(raw)[0] == normalise_message_id(b"Message-Id:\r\n <folded@b>\r\n\r\n")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "empty"),
        (b"no header at all, just text", "first line is not a header"),
        (b'Subject: x\r\nContent-Type: multipart/mixed; boundary=""\r\n\r\nx\r\n', "without a boundary"),
    ],
)
def test_odd_messages_get_warnings(raw: bytes, fragment: str) -> None:
    _mid, warnings = inspect(raw)
    assert any(fragment in w for w in warnings), warnings


def test_a_header_only_message_is_fine() -> None:
    assert inspect(b"Subject: only headers\r\n") == (None, ())


def test_internaldate() -> None:
    assert parse_internaldate(b" 2-Nov-2026 03:24:16 +0100") == datetime(
        2026, 11, 2, 3, 24, 16, tzinfo=timezone(timedelta(hours=1))
    )
    assert parse_internaldate(b"29-Nov-2026 23:00:00 +0000") == datetime(2026, 11, 29, 23, tzinfo=UTC)
    assert parse_internaldate(b"garbage") is None
    assert parse_internaldate(b"29-Foo-2026 23:00:00 +0000") is None


def test_uid_sets_are_compact() -> None:
    assert _uid_set([1, 2, 3, 7, 9, 10]) == "1:3,7,9:10"
    assert _uid_set([5]) == "5"


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("INBOX", "INBOX"),
        ("Entwürfe", "Entw&APw-rfe"),
        ("A&B", "A&-B"),
        ("日本語", "&ZeVnLIqe-"),
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501's example
    ],
)
def test_folder_names_in_modified_utf7(name: str, encoded: str) -> None:
    assert encode_folder(name) == encoded
