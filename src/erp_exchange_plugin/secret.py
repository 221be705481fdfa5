"""A string that never shows itself: client secrets, passwords, tokens.

``repr``, ``str``, ``format`` and log rendering all print :data:`MASK`; only
:meth:`Secret.reveal` gives the value, and only code that hands it to msal, exchangelib or a
mail server calls it. Every secret's value is also remembered (in this process only) so that
the log redaction processor can mask it wherever it appears in a log line.
"""

from __future__ import annotations

import hmac
import threading
from typing import Final

MASK: Final = "********"

_MIN_REMEMBERED_LENGTH: Final = 6
_known: set[str] = set()
_known_lock = threading.Lock()


class Secret:
    """A secret string value.

    >>> s = Secret("hunter2-but-longer")
    >>> s, str(s), f"{s}"
    (Secret('********'), '********', '********')
    >>> s.reveal()
    'hunter2-but-longer'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a Secret holds a str")
        self._value = value
        if len(value) >= _MIN_REMEMBERED_LENGTH:
            with _known_lock:
                _known.add(value)

    def reveal(self) -> str:
        """Return the value; call only where it is handed to the counterpart that needs it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not picklable: it would leave the process in clear text")


def known_secret_values() -> frozenset[str]:
    """Return the values of every :class:`Secret` made in this process (for redaction)."""
    with _known_lock:
        return frozenset(_known)
