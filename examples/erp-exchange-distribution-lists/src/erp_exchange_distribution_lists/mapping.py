"""ERP contact groups <-> Exchange distribution lists.

An ERP contact group (entity ``contact_group``) has these fields:

=========  ==================================================  =========================
field      type                                                Exchange distribution list
=========  ==================================================  =========================
name       text (required)                                     DisplayName
members    list of {"email": text, "name": text or null},      Members (one-off SMTP
           compared as a set by e-mail address                 members)
notes      multi-line text                                     the body
=========  ==================================================  =========================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exchangelib import Body, DistributionList, HTMLBody
from exchangelib.properties import Mailbox, Member

from erp_exchange_plugin.item_types.text import clean, html_to_text
from erp_exchange_plugin.plugin_types import RecordInvalid

FIELDS = ("display_name", "members", "body", "erp_id", "erp_installation", "last_modified_time")
"""The exchangelib fields the engine fetches for this item type (our extended properties included)."""


def normalize(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of a contact group: trimmed text, members sorted by e-mail, no duplicates."""
    name = clean("name", fields.get("name"))
    if name is None:
        raise RecordInvalid("name", "a contact group needs a name")
    members: dict[str, dict[str, Any]] = {}
    raw_members = fields.get("members") or []
    if not isinstance(raw_members, list | tuple):
        raise RecordInvalid("members", "must be a list")
    for i, member in enumerate(raw_members):
        if not isinstance(member, Mapping):
            raise RecordInvalid(f"members[{i}]", "must be an object with email and name")
        email = clean(f"members[{i}].email", member.get("email"), max_length=320)
        if email is None or "@" not in email:
            raise RecordInvalid(f"members[{i}].email", f"{email!r} is not an e-mail address")
        members.setdefault(
            email.lower(), {"email": email, "name": clean(f"members[{i}].name", member.get("name"))}
        )
    return {
        "name": name,
        "members": [members[key] for key in sorted(members)],
        "notes": clean("notes", fields.get("notes"), multiline=True, max_length=100_000),
    }


def to_exchange(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Normalized fields -> DistributionList attribute values (``None`` clears a field)."""
    members = [
        Member(
            mailbox=Mailbox(
                email_address=m["email"], name=m["name"], routing_type="SMTP", mailbox_type="OneOff"
            )
        )
        for m in fields["members"]
    ]
    return {
        "display_name": fields["name"],
        "members": members or None,
        "body": Body(fields["notes"]) if fields["notes"] else None,
    }


def to_erp(item: DistributionList) -> dict[str, Any]:
    """A DistributionList -> normalized contact-group fields."""
    body = item.body
    notes = html_to_text(str(body)) if isinstance(body, HTMLBody) else (str(body) if body else None)
    members = [
        {"email": m.mailbox.email_address, "name": m.mailbox.name}
        for m in item.members or ()
        if m.mailbox is not None and m.mailbox.email_address
    ]
    return normalize({"name": item.display_name, "members": members, "notes": notes})
