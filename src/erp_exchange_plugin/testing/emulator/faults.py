"""Fault and latency injection for the EWS endpoint.

A :class:`FaultRule` matches requests by operation and mailbox and fires for the next ``count`` matches, for a
``share`` of them (seeded, reproducible), or for all of them. Kinds:

* ``server_busy``: SOAP fault ``ErrorServerBusy`` with ``BackOffMilliseconds`` (HTTP 500), nothing applied;
* ``http_500`` / ``http_503``: a bare HTTP error page (503 with ``Retry-After``), nothing applied;
* ``drop_before``: the connection is closed without a response, nothing applied;
* ``drop_after``: the operation IS applied, then the connection is closed without a response;
* ``malformed_xml``: HTTP 200 with a body that is not well-formed XML, nothing applied;
* ``truncated_xml``: the operation IS applied, then HTTP 200 with the first half of the real response;
* ``slow``: the request waits ``delay_ms`` (past a client's timeout), then is applied and answered.

Rules for the operation name ``token`` act on Entra's token endpoint instead: ``server_busy`` is HTTP 429 with
``Retry-After``, ``http_500``/``http_503`` are Entra-style JSON errors, ``drop_*`` close the connection.

Latency: every EWS request waits ``latency_ms`` plus a uniform random ``0..jitter_ms``.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from .reply import Reply, json_reply

FAULT_KINDS = (
    "server_busy",
    "http_500",
    "http_503",
    "drop_before",
    "drop_after",
    "malformed_xml",
    "truncated_xml",
    "slow",
)
APPLIED_KINDS = ("drop_after", "truncated_xml", "slow")
"""Kinds whose operation is applied before the fault shows."""


@dataclass
class FaultRule:
    """One injected fault; see the module docstring for the kinds."""

    kind: str
    operation: str | None = None
    mailbox: str | None = None
    count: int | None = None
    share: float | None = None
    back_off_ms: int = 1000
    delay_ms: int = 0
    rule_id: int = 0
    fired: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the admin API."""
        return asdict(self)


@dataclass
class FaultInjector:
    """The active rules and the latency setting; thread-safe."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)  # noqa: S311 - reproducible test randomness, not crypto
        self._ids = itertools.count(1)

    def add(
        self,
        kind: str,
        *,
        operation: str | None = None,
        mailbox: str | None = None,
        count: int | None = 1,
        share: float | None = None,
        back_off_ms: int = 1000,
        delay_ms: int = 0,
    ) -> FaultRule:
        """Add a rule; ``count=None`` and ``share=None`` means every matching request until cleared."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if share is not None and not 0.0 <= share <= 1.0:
            raise ValueError("share must be between 0 and 1")
        rule = FaultRule(
            kind, operation, mailbox.lower() if mailbox else None, count, share, back_off_ms, delay_ms
        )
        with self._lock:
            rule.rule_id = next(self._ids)
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule and the latency."""
        with self._lock:
            self.rules.clear()
            self.latency_ms = self.jitter_ms = 0.0

    def pick(self, operation: str, mailbox: str | None) -> FaultRule | None:
        """The rule that fires for this request, if any (consumes one of its ``count``)."""
        with self._lock:
            for rule in list(self.rules):
                if rule.operation and rule.operation != operation:
                    continue
                if rule.mailbox and rule.mailbox != (mailbox or "").lower():
                    continue
                if rule.share is not None and self._rng.random() >= rule.share:
                    continue
                rule.fired += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.rules.remove(rule)
                return rule
        return None

    def delay_seconds(self) -> float:
        """How long the next request waits."""
        with self._lock:
            jitter = self._rng.uniform(0, self.jitter_ms) if self.jitter_ms else 0.0
            return (self.latency_ms + jitter) / 1000.0


#: The reply that closes the connection without an answer (drop faults).
DROP = Reply(-1)


def token_fault(rule: FaultRule) -> Reply:
    """What the token endpoint answers for an injected fault."""
    if rule.kind not in ("server_busy", "http_500", "http_503"):
        return DROP
    if rule.kind == "server_busy":
        retry = str(max(1, rule.back_off_ms // 1000))
        return json_reply(
            429,
            {"error": "temporarily_unavailable", "error_description": "AADSTS50196: too many requests."},
            {"Retry-After": retry},
        )
    status = 503 if rule.kind == "http_503" else 500
    return json_reply(
        status,
        {
            "error": "temporarily_unavailable",
            "error_description": "AADSTS90033: A transient error has occurred.",
        },
        {"Retry-After": "1"} if status == 503 else None,
    )
