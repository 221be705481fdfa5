"""HTTP sessions for msal that trust exactly the CA we were told to trust.

requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override a session's ``verify`` (and
many machines export them), so a session built here ignores the environment for TLS
(``trust_env = False``) and carries the environment's proxies explicitly instead.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import requests


def make_session(ca_file: Path | None) -> requests.Session:
    """A session that verifies TLS against ``ca_file``.

    Without ``ca_file`` it verifies against the bundle the environment names (as requests
    would), else certifi's.
    """
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(urllib.request.getproxies())
    if ca_file is not None:
        session.verify = str(ca_file)
    else:
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return session
