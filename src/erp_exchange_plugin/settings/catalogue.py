"""Every setting of the ``exchange`` section: name, meaning, default, who may set it.

This table is the single source of truth: the marshmallow schemas, the resolution, the
``editable`` answer of ``on_user_settings_load`` and the configuration reference in
docs/configuration.md are all derived from it (a test keeps the docs in sync).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

SECTION: Final = "exchange"
"""The name of our section in the host's user and tenant settings."""


class AuthMode(enum.StrEnum):
    """How the plugin authenticates to Exchange."""

    OAUTH_APP = "oauth_app"
    """OAuth 2.0 client credentials (directory id, application id, client secret) + impersonation."""
    NTLM = "ntlm"
    """NTLM with a user name and password (on-premises Exchange 2010 and later)."""
    BASIC = "basic"
    """HTTP Basic with a user name and password (on-premises Exchange 2010 and later)."""


SERVER_VERSIONS: Final = (
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2016",
)
"""EWS schema versions a server may be pinned to (Exchange 2019 and Exchange Online speak Exchange2016)."""

OAUTH_TRIPLE: Final = ("tenant_id", "client_id", "client_secret")
"""Set together at one level, or not at all."""


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting.

    :param name: The key in the settings section.
    :param description: One sentence for the configuration reference.
    :param default: The built-in default, or ``None`` when there is none.
    :param tenant_only: Only an administrator sets it (at the tenant level).
    :param secret: Its value is masked everywhere.
    """

    name: str
    description: str
    default: object = None
    tenant_only: bool = False
    secret: bool = False


SETTINGS: Final[tuple[SettingSpec, ...]] = (
    SettingSpec("enabled", "Whether Exchange sync and mail fetch run for the user.", True),
    SettingSpec("auth_mode", "`oauth_app`, `ntlm` or `basic`.", AuthMode.OAUTH_APP.value),
    SettingSpec("tenant_id", "Directory (tenant) id: a GUID or a verified domain such as contoso.com."),
    SettingSpec("client_id", "Application (client) id of the app registration: a GUID."),
    SettingSpec("client_secret", "Client secret of the app registration.", secret=True),
    SettingSpec(
        "authority_host",
        "The identity platform's https URL; the authority is this URL plus the tenant id.",
        "https://login.microsoftonline.com",
    ),
    SettingSpec(
        "ews_url", "The EWS endpoint's https URL.", "https://outlook.office365.com/EWS/Exchange.asmx"
    ),
    SettingSpec("mailbox", "The mailbox's primary SMTP address; by default the user's e-mail address."),
    SettingSpec("username", "Logon name for `ntlm` (DOMAIN\\\\user) or `basic` (user@domain)."),
    SettingSpec("password", "Password for `ntlm` and `basic`.", secret=True),
    SettingSpec(
        "server_version",
        "Pin the EWS schema version (Exchange2010 ... Exchange2016) so no version probe is sent.",
    ),
    SettingSpec("ca_file", "A PEM file of CA certificates to trust instead of the system's."),
    SettingSpec("sync_interval_minutes", "Minutes between two contact/calendar/task syncs (1-1440).", 5),
    SettingSpec(
        "item_types",
        "Per item type (`contacts`, `calendar`, `tasks`, ...): `enabled`, `direction` (`both`, `erp_to_exchange`, "
        "`exchange_to_erp`), `conflict_policy` (`newest_wins`, `erp_wins`, `exchange_wins`), `window_past_days`, "
        "`window_future_days` (items outside the window are not copied), `send_invitations` (calendar; off by default). "
        "Locked as a whole.",
        {},
    ),
    SettingSpec("mail_interval_minutes", "Minutes between two mail fetches (1-1440).", 5),
    SettingSpec(
        "allow_http_loopback",
        "Allow plain http URLs on loopback addresses (for local test servers only).",
        False,
        tenant_only=True,
    ),
    SettingSpec(
        "delete_guard_max_share",
        "The largest share (0-1) of one side's synced items a run may delete; a run that would delete more stops.",
        0.5,
        tenant_only=True,
    ),
    SettingSpec(
        "delete_guard_min_items",
        "The share rule of the deletion guard applies from this many synced items on.",
        10,
        tenant_only=True,
    ),
    SettingSpec(
        "disable_after_failures",
        "Consecutive transient failures (busy or unreachable server) after which a user's sync or a mailbox's "
        "fetch is disabled with an alert, until an administrator enables it again (0: never).",
        10,
        tenant_only=True,
    ),
    SettingSpec(
        "allowed_mailbox_domains",
        "If set, mailboxes must be in one of these domains.",
        (),
        tenant_only=True,
    ),
    SettingSpec(
        "locked_fields",
        "Fields users may not override (locking one field of the OAuth triple locks all three).",
        (),
        tenant_only=True,
    ),
)

BY_NAME: Final = {spec.name: spec for spec in SETTINGS}
USER_SETTABLE: Final = frozenset(spec.name for spec in SETTINGS if not spec.tenant_only)
SECRET_FIELDS: Final = frozenset(spec.name for spec in SETTINGS if spec.secret)
