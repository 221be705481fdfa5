"""Mail fetch over IMAP and POP3 (EWS joins later) into the host's mail sink.

Modules, one job each:

- :mod:`.settings`: a mailbox's settings (``Mailbox.settings``) validated into :class:`MailboxSettings`;
- :mod:`.checkpoints`: IMAP UIDVALIDITY/last UID, delivered messages, POP3 UIDLs, EWS sync state;
- :mod:`.message`: the idempotency key (content hash), Message-ID, a cheap MIME check;
- :mod:`.delivery`: :class:`MailRun`, deliver first, checkpoint after, limits, the report;
- :mod:`.connect`: TLS contexts, the XOAUTH2 string, network errors as typed errors;
- :mod:`.imap`, :mod:`.pop3`: the providers' fetchers;
- :mod:`.builtin`: registers them through ``erp_exchange_mail_providers``;
- :mod:`.fetch`: :func:`fetch_mailbox`, what ``on_mail_fetch`` calls.

docs/mail.md describes the settings and the guarantees.
"""

from erp_exchange_plugin.mail.checkpoints import ImapCheckpoint, MailCheckpoints
from erp_exchange_plugin.mail.delivery import FetchContext, MailRun
from erp_exchange_plugin.mail.fetch import TokenSource, fetch_mailbox
from erp_exchange_plugin.mail.settings import (
    Actions,
    Limits,
    MailboxSettings,
    MailSettingsError,
    load_settings,
)

__all__ = [
    "Actions",
    "FetchContext",
    "ImapCheckpoint",
    "Limits",
    "MailCheckpoints",
    "MailRun",
    "MailSettingsError",
    "MailboxSettings",
    "TokenSource",
    "fetch_mailbox",
    "load_settings",
]
