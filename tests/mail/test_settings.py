"""Mailbox settings: defaults, field-level errors, secrets masked (no server needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from erp_exchange_plugin.mail.settings import (
    DEFAULT_MAX_MESSAGE_BYTES,
    Actions,
    Limits,
    MailboxSettings,
    MailSettingsError,
    load_settings,
)
from erp_exchange_plugin.secret import Secret

BASE = {"host": "mail.example.com", "username": "anna", "password": "pw-secret-4711"}


def test_defaults() -> None:
    s = load_settings("imap", "m1", BASE)
    assert s == MailboxSettings(
        protocol="imap",
        host="mail.example.com",
        port=993,
        security="tls",
        username="anna",
        password=Secret("pw-secret-4711"),
        folders=("INBOX",),
        actions=Actions(),
        limits=Limits(max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES),
    )
    assert "pw-secret-4711" not in repr(s)
    assert load_settings("pop3", "m1", BASE).port == 995
    assert load_settings("pop3", "m1", {**BASE, "security": "starttls"}).port == 110
    assert load_settings("imap", "m1", {**BASE, "security": "starttls"}).port == 143


def test_everything_set(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    s = load_settings(
        "imap",
        "m1",
        {
            "host": "127.0.0.1",
            "port": 1143,
            "security": "none",
            "username": "anna",
            "auth": "xoauth2",
            "folders": ["INBOX", "Orders", "INBOX"],
            "ca_file": str(ca),
            "timeout_seconds": 5,
            "actions": {"mark_read": True, "move_to": "Archive"},
            "limits": {"max_messages_per_run": 10, "max_bytes_per_run": 4096, "max_message_bytes": 2048},
        },
    )
    assert (s.port, s.security, s.auth, s.password, s.ca_file, s.timeout_seconds) == (
        1143,
        "none",
        "xoauth2",
        None,
        ca,
        5.0,
    )
    assert s.folders == ("INBOX", "Orders")
    assert s.actions == Actions(mark_read=True, move_to="Archive")
    assert s.limits == Limits(10, 4096, 2048)


CASES: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
    ("missing host and user", "imap", {"password": "x"}, {"host": "is required", "username": "is required"}),
    (
        "no password",
        "imap",
        {"host": "h", "username": "u"},
        {"password": 'is required when auth is "password"'},
    ),
    ("password with xoauth2", "imap", {**BASE, "auth": "xoauth2"}, {"password": "must not be set"}),
    ("unknown key", "imap", {**BASE, "hostname": "x"}, {"hostname": "is not a setting"}),
    ("unknown nested key", "imap", {**BASE, "limits": {"max": 1}}, {"limits.max": "is not a setting"}),
    ("bad port", "imap", {**BASE, "port": 70000}, {"port": "must be between 1 and 65535"}),
    ("port as text", "imap", {**BASE, "port": "993"}, {"port": "must be a whole number"}),
    ("bad security", "imap", {**BASE, "security": "ssl"}, {"security": "must be one of tls, starttls, none"}),
    ("plain text off loopback", "pop3", {**BASE, "security": "none"}, {"security": "loopback host only"}),
    ("folder and folders", "imap", {**BASE, "folder": "A", "folders": ["B"]}, {"folders": "not both"}),
    ("empty folder list", "imap", {**BASE, "folders": []}, {"folders": "non-empty list"}),
    ("folders for POP3", "pop3", {**BASE, "folder": "INBOX"}, {"folders": "POP3 has no folders"}),
    ("mark read for POP3", "pop3", {**BASE, "actions": {"mark_read": True}}, {"actions": "POP3 can only"}),
    (
        "delete and move",
        "imap",
        {**BASE, "actions": {"delete": True, "move_to": "X"}},
        {"actions": "exclude each other"},
    ),
    (
        "action flag as text",
        "imap",
        {**BASE, "actions": {"delete": "yes"}},
        {"actions.delete": "true or false"},
    ),
    (
        "tiny message limit",
        "imap",
        {**BASE, "limits": {"max_message_bytes": 10}},
        {"limits.max_message_bytes": "between 1024"},
    ),
    (
        "missing CA file",
        "imap",
        {**BASE, "ca_file": "/nonexistent/ca.pem"},
        {"ca_file": "is not a readable file"},
    ),
    ("limits not an object", "imap", {**BASE, "limits": 5}, {"limits": "must be an object"}),
    ("padded host", "imap", {**BASE, "host": " h "}, {"host": "whitespace"}),
]


@pytest.mark.parametrize(("protocol", "raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_field_errors(protocol: str, raw: dict[str, Any], expected: dict[str, str]) -> None:
    with pytest.raises(MailSettingsError) as caught:
        load_settings(protocol, "m1", raw)
    errors = caught.value.field_errors
    assert set(errors) == set(expected)
    for name, fragment in expected.items():
        assert any(fragment in message for message in errors[name]), errors[name]
    assert caught.value.permanent
    assert "pw-secret-4711" not in str(caught.value)


def test_settings_that_are_no_object() -> None:
    with pytest.raises(MailSettingsError) as caught:
        load_settings("imap", "m1", ["host"])  # type: ignore[arg-type]
    assert caught.value.field_errors == {"(settings)": ["must be an object"]}
