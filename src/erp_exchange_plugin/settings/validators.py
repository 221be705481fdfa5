"""Validators for single values: GUIDs, domains, e-mail addresses, URLs, text."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from marshmallow import ValidationError

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_LOCAL_PART = re.compile(r"[^\s@\"(),:;<>\[\]\\]{1,64}")
_RESERVED_TENANTS = frozenset({"common", "organizations", "consumers"})


def text(value: str, *, max_length: int) -> str:
    """Reject empty, whitespace-only, padded, over-long or control-character text."""
    if not value.strip():
        raise ValidationError("must not be empty or only whitespace")
    if value != value.strip():
        raise ValidationError("has leading or trailing whitespace")
    if len(value) > max_length:
        raise ValidationError(f"is longer than {max_length} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError("contains control characters")
    return value


def guid(value: str) -> None:
    """A GUID such as ``72f988bf-86f1-41af-91ab-2d7cd011db47``."""
    if not GUID.fullmatch(value):
        raise ValidationError("is not a GUID (expected 8-4-4-4-12 hexadecimal digits)")


def domain(value: str) -> None:
    """A DNS domain with at least two labels (internationalised names allowed)."""
    try:
        ascii_name = value.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValidationError("is not a valid domain name") from exc
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
        raise ValidationError("is not a valid domain name")
    if labels[-1].isdigit():
        raise ValidationError("is not a valid domain name")


def tenant(value: str) -> None:
    """A directory id: a GUID or a verified domain, never ``common``/``organizations``."""
    if value.lower() in _RESERVED_TENANTS:
        raise ValidationError(f"{value!r} is not a tenant: client credentials need the directory id")
    if GUID.fullmatch(value):
        return
    try:
        domain(value)
    except ValidationError as exc:
        raise ValidationError("is neither a GUID nor a domain such as contoso.onmicrosoft.com") from exc


def email(value: str) -> None:
    """An e-mail address ``local@domain`` (internationalised addresses allowed)."""
    local, sep, dom = value.rpartition("@")
    if not sep or not _LOCAL_PART.fullmatch(local) or local.startswith(".") or local.endswith("."):
        raise ValidationError("is not a valid e-mail address")
    try:
        domain(dom)
    except ValidationError as exc:
        raise ValidationError("is not a valid e-mail address") from exc


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url(value: str) -> None:
    """An absolute http(s) URL with a host and no credentials in it (scheme policy is checked later)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValidationError("is not a valid URL") from exc
    if parts.scheme not in ("https", "http"):
        raise ValidationError("must be an https URL")
    if not parts.hostname:
        raise ValidationError("has no host")
    if parts.username or parts.password:
        raise ValidationError("must not contain a user name or password")
