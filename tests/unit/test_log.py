"""Logging: redaction first, whatever the host configured; no global configuration by the library."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from erp_exchange_plugin.log import configure_cli_logging, get_logger, redact
from erp_exchange_plugin.secret import MASK, Secret

CANARY = "canary-Secret-7f3a9c"


@pytest.fixture
def captured() -> list[MutableMapping[str, Any]]:
    """Configure structlog like a host that knows nothing of our redaction, capturing final events."""
    events: list[MutableMapping[str, Any]] = []

    def keep(_l: Any, _m: str, event: MutableMapping[str, Any]) -> str:
        events.append(dict(event))
        return ""

    structlog.configure(
        processors=[keep],
        logger_factory=structlog.ReturnLoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    return events


def test_secret_values_are_masked_wherever_they_appear(captured: list[MutableMapping[str, Any]]) -> None:
    secret = Secret(CANARY)
    log = get_logger("t").bind(user_id="anna")
    log.info("token acquired", secret_obj=secret, text=f"the server said {CANARY} twice {CANARY}")
    log.warning("nested", payload={"a": [CANARY, {"b": secret}]}, error=ValueError(f"bad {CANARY}"))
    log.error(
        "keys", client_secret="plain-but-secret-key", headers={"Authorization": "Bearer abc.def.ghijklmn"}
    )
    log.debug("bearer", text="Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi")
    rendered = repr(captured)
    assert len(captured) == 4
    assert CANARY not in rendered
    assert "plain-but-secret-key" not in rendered
    assert "eyJ0eXAiOiJKV1QiLCJhbGciOi" not in rendered
    assert "abc.def.ghijklmn" not in rendered
    assert captured[0]["user_id"] == "anna"
    assert captured[0]["text"] == f"the server said {MASK} twice {MASK}"


def test_redact_keeps_harmless_values() -> None:
    event = redact(None, "info", {"event": "x", "count": 3, "mailbox": "anna@contoso.com"})
    assert event == {"event": "x", "count": 3, "mailbox": "anna@contoso.com"}


def test_cli_logging_renders_json_without_secrets() -> None:
    stream = io.StringIO()
    configure_cli_logging(json=True, stream=stream)
    get_logger("t").warning("oops", detail=f"x {Secret(CANARY).reveal()} y")
    line = stream.getvalue()
    assert '"event": "oops"' in line
    assert CANARY not in line


def test_the_library_never_configures_structlog_globally() -> None:
    src = Path(__file__).resolve().parents[2] / "src" / "erp_exchange_plugin"
    callers = {
        p.relative_to(src).as_posix()
        for p in src.rglob("*.py")
        if re.search(r"structlog\.configure\(|configure_cli_logging\(", p.read_text())
    }
    assert callers == {"log.py", "cli.py"}
