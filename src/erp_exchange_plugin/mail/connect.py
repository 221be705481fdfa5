"""What IMAP and POP3 share before the first command: TLS contexts, the XOAUTH2 string, error mapping.

TLS always verifies the certificate and the host name. ``ca_file`` replaces the system's CAs
through :func:`ssl.create_default_context` (``REQUESTS_CA_BUNDLE`` and friends do not apply to
``ssl`` contexts). Socket and TLS failures are turned into the typed errors of
:mod:`erp_exchange_plugin.errors` with a sentence that names the server.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from erp_exchange_plugin.errors import HostUnreachable, TlsUntrusted
from erp_exchange_plugin.mail.errors import MailServerError

TokenCallable = Callable[[], str]
"""Returns a current OAuth 2.0 access token for the mailbox (the auth package's msal provider)."""


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying client context that trusts ``ca_file`` (or the system's CAs when ``None``)."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)


def xoauth2_string(username: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response: ``user=<u>^Aauth=Bearer <token>^A^A`` (before base64)."""
    if "\x01" in username or "\x01" in token:
        raise ValueError("a user name or token containing ^A cannot be sent in XOAUTH2")
    return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()


@contextmanager
def network_errors(protocol: str, host: str, port: int) -> Iterator[None]:
    """Turn socket and TLS exceptions raised inside the block into typed errors naming the server."""
    where = f"{protocol} server {host}:{port}"
    try:
        yield
    except ssl.SSLCertVerificationError as exc:
        raise TlsUntrusted(
            f"the certificate of the {where} is not trusted: {exc.verify_message or exc.reason}",
            hint="set ca_file to the CA that issued the server's certificate, or fix the server's certificate",
        ) from None
    except ssl.SSLError as exc:
        raise TlsUntrusted(f"TLS with the {where} failed: {exc.reason or exc}") from None
    except socket.gaierror as exc:
        raise HostUnreachable(f"the {where} cannot be resolved: {exc.strerror or exc}") from None
    except TimeoutError:
        raise HostUnreachable(f"the {where} did not answer in time") from None
    except ConnectionRefusedError:
        raise HostUnreachable(
            f"the {where} refused the connection", hint="check host, port and security"
        ) from None
    except (ConnectionError, EOFError) as exc:
        raise MailServerError(f"the {where} closed the connection: {type(exc).__name__}") from None
    except OSError as exc:
        raise HostUnreachable(f"the {where} is unreachable: {exc.strerror or exc}") from None
