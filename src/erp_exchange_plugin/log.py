"""Logging with structlog, without touching the application's configuration.

The library never calls :func:`structlog.configure`. :func:`get_logger` returns a logger
that runs :func:`redact` before whatever processors the application configured, so a secret
cannot reach a log line even when the host renders logs its own way. Applications that
build their own processor chains can put :func:`redact` first themselves.

The ``erp-exchange`` command line configures console or JSON output for itself with
:func:`configure_cli_logging`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from erp_exchange_plugin.secret import MASK, Secret, known_secret_values

SECRET_KEY_PATTERN = re.compile(
    r"(secret|password|passwd|token|authorization|assertion|credential|api_?key)", re.IGNORECASE
)
"""Keys whose values are masked whatever they hold."""

_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


def _scrub(value: Any, depth: int = 0) -> Any:
    if isinstance(value, Secret):
        return MASK
    if depth > 6:
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {k: (MASK if _is_secret_key(k) else _scrub(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_scrub(v, depth + 1) for v in value)
    if isinstance(value, list | set | frozenset):
        return [_scrub(v, depth + 1) for v in value]
    if isinstance(value, BaseException):
        return scrub_text(f"{type(value).__name__}: {value}")
    return value


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and bool(SECRET_KEY_PATTERN.search(key))


def scrub_text(text: str) -> str:
    """Return ``text`` with every known secret value and every bearer/basic credential masked."""
    for secret in known_secret_values():
        if secret in text:
            text = text.replace(secret, MASK)
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets in every value of the event.

    Masks :class:`~erp_exchange_plugin.secret.Secret` values, values under keys that look
    secret (``client_secret``, ``password``, ``access_token``, ...), bearer and basic
    credentials in text, and the value of every secret this process holds wherever it appears.
    """
    for key in list(event_dict):
        event_dict[key] = MASK if _is_secret_key(key) else _scrub(event_dict[key])
    return event_dict


class RedactingLogger:
    """A structlog logger that always redacts first, then uses the application's configuration."""

    __slots__ = ("_context", "_name")

    def __init__(self, name: str, context: Mapping[str, Any] | None = None) -> None:
        self._name = name
        self._context = dict(context or {})

    def bind(self, **values: Any) -> RedactingLogger:
        """Return a logger that adds ``values`` to every event."""
        return RedactingLogger(self._name, {**self._context, **values})

    def _emit(self, method: str, event: str, values: dict[str, Any]) -> None:
        processors = [redact, *structlog.get_config()["processors"]]
        logger = structlog.wrap_logger(
            None, processors=processors, logger_factory_args=(self._name,), **self._context
        )
        getattr(logger, method)(event, **values)

    def debug(self, event: str, **values: Any) -> None:
        """Log at debug level."""
        self._emit("debug", event, values)

    def info(self, event: str, **values: Any) -> None:
        """Log at info level."""
        self._emit("info", event, values)

    def warning(self, event: str, **values: Any) -> None:
        """Log at warning level."""
        self._emit("warning", event, values)

    def error(self, event: str, **values: Any) -> None:
        """Log at error level."""
        self._emit("error", event, values)


def get_logger(name: str, **context: Any) -> RedactingLogger:
    """Return the library's logger for module ``name``."""
    return RedactingLogger(name, context)


def configure_cli_logging(*, json: bool, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Configure structlog for the ``erp-exchange`` command line (never called by the library)."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            redact,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
