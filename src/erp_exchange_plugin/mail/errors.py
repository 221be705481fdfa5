"""Typed errors of the IMAP and POP3 providers, besides the shared ones in :mod:`erp_exchange_plugin.errors`.

Connection problems raise :class:`~erp_exchange_plugin.errors.HostUnreachable`, certificate
problems :class:`~erp_exchange_plugin.errors.TlsUntrusted`, a rejected login
:class:`~erp_exchange_plugin.errors.AuthenticationFailed`; what is specific to mail lives here.
"""

from __future__ import annotations

from erp_exchange_plugin.errors import ExchangeError


class MailServerError(ExchangeError):
    """The mail server broke off or answered something unusable in the middle of a run (transient)."""

    code = "mail.server_error"


class FolderNotFound(ExchangeError):
    """An IMAP folder of the settings does not exist (or may not be opened)."""

    code = "mail.folder_not_found"
    permanent = True


class UnsupportedByServer(ExchangeError):
    """The server lacks what the settings need (STARTTLS, STLS, UIDL, XOAUTH2)."""

    code = "mail.unsupported"
    permanent = True


class MailboxBusy(ExchangeError):
    """Another fetch of the same mailbox is running in this process."""

    code = "mail.busy"
