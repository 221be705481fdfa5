"""The settings table: valid and invalid input with what must come out.

Shared by the resolution tests (tests/unit/test_settings.py) and the end-to-end tests through
the stub host (tests/integration/test_settings_hook.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TENANT_GUID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_GUID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
USER_CLIENT_GUID = "11111111-2222-3333-4444-555555555555"
TENANT_SECRET = "tenant-Secret~value.0123456789"
USER_SECRET = "user-own-Secret~value.987654"

TENANT: dict[str, Any] = {
    "tenant_id": TENANT_GUID,
    "client_id": CLIENT_GUID,
    "client_secret": TENANT_SECRET,
}


@dataclass(frozen=True)
class Case:
    """One row: ``user`` is what the user proposes, ``tenant`` what the admin stored."""

    id: str
    user: Any
    tenant: Any = field(default_factory=lambda: dict(TENANT))
    email: str | None = "anna@contoso.com"
    error: tuple[str, str] | None = None  # (field, level) that must be named
    expect: dict[str, Any] = field(default_factory=dict)  # effective values that must come out
    origins: dict[str, str] = field(default_factory=dict)


def _t(**extra: Any) -> dict[str, Any]:
    return {**TENANT, **extra}


VALID = [
    Case(
        "inherit-everything",
        {},
        expect={"mailbox": "anna@contoso.com", "client_id": CLIENT_GUID},
        origins={"mailbox": "host", "tenant_id": "tenant", "client_secret": "tenant", "ews_url": "default"},
    ),
    Case(
        "own-triple",
        {
            "tenant_id": "fabrikam.onmicrosoft.com",
            "client_id": USER_CLIENT_GUID,
            "client_secret": USER_SECRET,
        },
        expect={"tenant_id": "fabrikam.onmicrosoft.com", "client_secret": "********"},
        origins={"tenant_id": "user", "client_id": "user", "client_secret": "user"},
    ),
    Case(
        "own-triple-no-tenant",
        {"tenant_id": TENANT_GUID, "client_id": USER_CLIENT_GUID, "client_secret": USER_SECRET},
        tenant={},
        origins={"client_id": "user"},
    ),
    Case(
        "mailbox-override",
        {"mailbox": "sales@contoso.com"},
        expect={"mailbox": "sales@contoso.com"},
        origins={"mailbox": "user"},
    ),
    Case(
        "unicode-mailbox",
        {"mailbox": "jürgen.müller@bücher.example"},
        expect={"mailbox": "jürgen.müller@bücher.example"},
    ),
    Case("tenant-domain-id", {}, tenant=_t(tenant_id="contoso.com"), expect={"tenant_id": "contoso.com"}),
    Case(
        "interval",
        {"sync_interval_minutes": 15},
        expect={"sync_interval_minutes": 15},
        origins={"sync_interval_minutes": "user"},
    ),
    Case(
        "tenant-interval", {}, tenant=_t(mail_interval_minutes=2), origins={"mail_interval_minutes": "tenant"}
    ),
    Case("disabled", {"enabled": False}, expect={"enabled": False}),
    Case("null-means-inherit", {"mailbox": None, "ews_url": None}, expect={"mailbox": "anna@contoso.com"}),
    Case(
        "ntlm-onprem",
        {
            "auth_mode": "ntlm",
            "username": "CONTOSO\\anna",
            "password": "pässwörd-1",
            "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx",
            "server_version": "Exchange2010_SP2",
        },
        expect={"auth_mode": "ntlm", "password": "********", "username": "CONTOSO\\anna"},
    ),
    Case(
        "basic-unicode-user",
        {
            "auth_mode": "basic",
            "username": "jürgen@contoso.com",
            "password": "x" * 12,
            "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx",
        },
    ),
    Case(
        "http-loopback-opt-in",
        {"ews_url": "http://127.0.0.1:8080/EWS/Exchange.asmx"},
        tenant=_t(allow_http_loopback=True),
    ),
    Case(
        "allowed-domain", {"mailbox": "Anna@Contoso.com"}, tenant=_t(allowed_mailbox_domains=["contoso.com"])
    ),
    Case(
        "lock-other-field",
        {"mailbox": "anna@contoso.com"},
        tenant=_t(locked_fields=["ews_url"]),
        origins={"ews_url": "default"},
    ),
    Case(
        "long-but-allowed-secret",
        {"tenant_id": TENANT_GUID, "client_id": USER_CLIENT_GUID, "client_secret": "s" * 1024},
    ),
]

INVALID = [
    Case("partial-triple-one", {"client_id": USER_CLIENT_GUID}, error=("tenant_id", "user")),
    Case(
        "partial-triple-two",
        {"client_id": USER_CLIENT_GUID, "tenant_id": TENANT_GUID},
        error=("client_secret", "user"),
    ),
    Case("partial-triple-tenant", {}, tenant={"tenant_id": TENANT_GUID}, error=("client_secret", "tenant")),
    Case("no-triple-anywhere", {}, tenant={}, error=("client_id", "tenant")),
    Case(
        "malformed-guid",
        {
            "tenant_id": TENANT_GUID,
            "client_id": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fZ",
            "client_secret": USER_SECRET,
        },
        error=("client_id", "user"),
    ),
    Case(
        "guid-with-braces",
        {"tenant_id": TENANT_GUID, "client_id": "{" + USER_CLIENT_GUID + "}", "client_secret": USER_SECRET},
        error=("client_id", "user"),
    ),
    Case(
        "tenant-common",
        {"tenant_id": "common", "client_id": USER_CLIENT_GUID, "client_secret": USER_SECRET},
        error=("tenant_id", "user"),
    ),
    Case("tenant-not-domain", {}, tenant=_t(tenant_id="contoso"), error=("tenant_id", "tenant")),
    Case("http-url", {"ews_url": "http://mail.contoso.com/EWS/Exchange.asmx"}, error=("ews_url", "user")),
    Case(
        "http-loopback-without-opt-in",
        {"ews_url": "http://127.0.0.1/EWS/Exchange.asmx"},
        error=("ews_url", "user"),
    ),
    Case(
        "http-non-loopback-with-opt-in",
        {"ews_url": "http://10.0.0.5/EWS/Exchange.asmx"},
        tenant=_t(allow_http_loopback=True),
        error=("ews_url", "user"),
    ),
    Case(
        "http-authority-tenant",
        {},
        tenant=_t(authority_host="http://login.example.com"),
        error=("authority_host", "tenant"),
    ),
    Case("ftp-url", {"ews_url": "ftp://mail.contoso.com/"}, error=("ews_url", "user")),
    Case(
        "url-with-credentials", {"ews_url": "https://anna:pw@mail.contoso.com/EWS"}, error=("ews_url", "user")
    ),
    Case("url-bad-port", {"ews_url": "https://mail.contoso.com:99999/EWS"}, error=("ews_url", "user")),
    Case("unknown-key", {"mailbox": "anna@contoso.com", "colour": "blue"}, error=("colour", "user")),
    Case("unknown-key-tenant", {}, tenant=_t(proxy="x"), error=("proxy", "tenant")),
    Case("admin-only-by-user", {"allow_http_loopback": True}, error=("allow_http_loopback", "user")),
    Case(
        "lock-override",
        {"ews_url": "https://mail.fabrikam.com/EWS/Exchange.asmx"},
        tenant=_t(locked_fields=["ews_url"]),
        error=("ews_url", "user"),
    ),
    Case(
        "lock-triple-by-one",
        {"tenant_id": TENANT_GUID, "client_id": USER_CLIENT_GUID, "client_secret": USER_SECRET},
        tenant=_t(locked_fields=["client_secret"]),
        error=("client_id", "user"),
    ),
    Case("lock-unknown-field", {}, tenant=_t(locked_fields=["colour"]), error=("locked_fields", "tenant")),
    Case("empty-mailbox", {"mailbox": ""}, error=("mailbox", "user")),
    Case("whitespace-mailbox", {"mailbox": "   "}, error=("mailbox", "user")),
    Case(
        "whitespace-secret",
        {"tenant_id": TENANT_GUID, "client_id": USER_CLIENT_GUID, "client_secret": " \t "},
        error=("client_secret", "user"),
    ),
    Case(
        "padded-secret",
        {"tenant_id": TENANT_GUID, "client_id": USER_CLIENT_GUID, "client_secret": USER_SECRET + " "},
        error=("client_secret", "user"),
    ),
    Case("bad-mailbox", {"mailbox": "anna.contoso.com"}, error=("mailbox", "user")),
    Case("mailbox-no-tld", {"mailbox": "anna@contoso"}, error=("mailbox", "user")),
    Case(
        "disallowed-domain",
        {"mailbox": "anna@gmail.com"},
        tenant=_t(allowed_mailbox_domains=["contoso.com"]),
        error=("mailbox", "user"),
    ),
    Case("no-mailbox-anywhere", {}, email=None, error=("mailbox", "user")),
    Case("very-long-mailbox", {"mailbox": "a" * 400 + "@contoso.com"}, error=("mailbox", "user")),
    Case("very-long-url", {"ews_url": "https://mail.contoso.com/" + "e" * 3000}, error=("ews_url", "user")),
    Case(
        "very-long-secret",
        {"tenant_id": TENANT_GUID, "client_id": USER_CLIENT_GUID, "client_secret": "s" * 1025},
        error=("client_secret", "user"),
    ),
    Case(
        "unicode-guid",
        {
            "tenant_id": TENANT_GUID,
            "client_id": "७२f988bf-86f1-41af-91ab-2d7cd011db47",
            "client_secret": USER_SECRET,
        },
        error=("client_id", "user"),
    ),
    Case(
        "control-char",
        {
            "username": "anna\x00",
            "auth_mode": "basic",
            "password": "p" * 10,
            "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx",
        },
        error=("username", "user"),
    ),
    Case("bool-as-string", {"enabled": "yes"}, error=("enabled", "user")),
    Case("bool-as-int", {"enabled": 1}, error=("enabled", "user")),
    Case("int-as-string", {"sync_interval_minutes": "5"}, error=("sync_interval_minutes", "user")),
    Case("int-as-bool", {"sync_interval_minutes": True}, error=("sync_interval_minutes", "user")),
    Case("int-as-float", {"sync_interval_minutes": 2.5}, error=("sync_interval_minutes", "user")),
    Case("interval-zero", {"sync_interval_minutes": 0}, error=("sync_interval_minutes", "user")),
    Case("string-as-list", {"mailbox": ["anna@contoso.com"]}, error=("mailbox", "user")),
    Case(
        "secret-as-number",
        {"tenant_id": TENANT_GUID, "client_id": USER_CLIENT_GUID, "client_secret": 12345},
        error=("client_secret", "user"),
    ),
    Case("unknown-auth-mode", {"auth_mode": "kerberos"}, error=("auth_mode", "user")),
    Case("unknown-server-version", {"server_version": "Exchange2007"}, error=("server_version", "user")),
    Case(
        "ntlm-no-password",
        {
            "auth_mode": "ntlm",
            "username": "CONTOSO\\anna",
            "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx",
        },
        error=("password", "user"),
    ),
    Case(
        "basic-default-url",
        {"auth_mode": "basic", "username": "anna@contoso.com", "password": "p" * 10},
        error=("ews_url", "user"),
    ),
    Case("missing-ca-file", {"ca_file": "/nonexistent/ca.pem"}, error=("ca_file", "user")),
    Case("section-not-object", ["mailbox"], error=("(section)", "user")),
    Case(
        "domains-not-list",
        {},
        tenant=_t(allowed_mailbox_domains="contoso.com"),
        error=("allowed_mailbox_domains", "tenant"),
    ),
    Case(
        "bad-domain-entry",
        {},
        tenant=_t(allowed_mailbox_domains=["contoso..com"]),
        error=("allowed_mailbox_domains", "tenant"),
    ),
]

VALID += [
    Case(
        "item-types",
        {"item_types": {"calendar": {"direction": "erp_to_exchange", "window_past_days": 7}}},
        tenant=_t(item_types={"tasks": {"enabled": False}, "calendar": {"window_future_days": 90}}),
        expect={
            "item_types": {
                "calendar": {"direction": "erp_to_exchange", "window_past_days": 7, "window_future_days": 90},
                "tasks": {"enabled": False},
            }
        },
        origins={"item_types": "user"},
    ),
    Case("guard-by-admin", {}, tenant=_t(delete_guard_max_share=0.2, delete_guard_min_items=3)),
]
INVALID += [
    Case(
        "item-type-bad-direction",
        {"item_types": {"contacts": {"direction": "sideways"}}},
        error=("item_types", "user"),
    ),
    Case(
        "item-type-unknown-option",
        {"item_types": {"contacts": {"colour": "red"}}},
        error=("item_types", "user"),
    ),
    Case("item-type-bad-name", {"item_types": {"Contacts!": {}}}, error=("item_types", "user")),
    Case(
        "item-type-window-too-long",
        {"item_types": {"calendar": {"window_past_days": 99999}}},
        error=("item_types", "user"),
    ),
    Case(
        "item-types-locked",
        {"item_types": {"contacts": {"enabled": False}}},
        tenant=_t(locked_fields=["item_types"]),
        error=("item_types", "user"),
    ),
    Case("guard-share-by-user", {"delete_guard_max_share": 0.9}, error=("delete_guard_max_share", "user")),
    Case(
        "guard-share-out-of-range",
        {},
        tenant=_t(delete_guard_max_share=1.5),
        error=("delete_guard_max_share", "tenant"),
    ),
]
