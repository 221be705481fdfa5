"""The built-in mail providers ``ews``, ``imap`` and ``pop3``, registered through our own extension hook.

The extension manager loads this module as a built-in plugin (``manager.BUILTIN_PLUGINS``), exactly
as a third-party mail plugin would be loaded from the entry-point group ``erp_exchange``.
"""

from __future__ import annotations

from collections.abc import Iterator

from erp_exchange_plugin.hookspecs import hookimpl
from erp_exchange_plugin.mail.ews import fetch_ews
from erp_exchange_plugin.mail.imap import fetch_imap
from erp_exchange_plugin.mail.pop3 import fetch_pop3
from erp_exchange_plugin.plugin_types import MailProvider


@hookimpl
def erp_exchange_mail_providers() -> Iterator[MailProvider]:
    """Yield the EWS, IMAP and POP3 providers."""
    yield MailProvider(
        protocol="ews",
        description="Exchange Web Services: new messages of a folder by SyncFolderItems, with the user's Exchange settings",
        fetcher=fetch_ews,
    )
    yield MailProvider(
        protocol="imap",
        description="IMAP4rev1 (IMAPS or STARTTLS; password or XOAUTH2): new messages by UID per folder",
        fetcher=fetch_imap,
    )
    yield MailProvider(
        protocol="pop3",
        description="POP3 (POP3S or STLS; password or XOAUTH2): messages with a new UIDL",
        fetcher=fetch_pop3,
    )
