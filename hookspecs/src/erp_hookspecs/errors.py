"""Exceptions a host raises through the host services."""

from __future__ import annotations


class HostError(Exception):
    """Base class of every error a host service raises on purpose."""


class VersionConflict(HostError):
    """A write carried an expected version that is no longer the record's version.

    :param record_id: The record that was changed by someone else in the meantime.
    :param expected: The version the caller expected.
    :param actual: The record's version now (``None`` when it was deleted).
    """

    def __init__(self, record_id: str, expected: str | None, actual: str | None) -> None:
        super().__init__(f"record {record_id!r} is at version {actual!r}, not {expected!r}")
        self.record_id = record_id
        self.expected = expected
        self.actual = actual


class RecordNotFound(HostError):
    """The record does not exist (or no longer exists)."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"record {record_id!r} does not exist")
        self.record_id = record_id


class UnknownEntity(HostError):
    """The host has no record store for this entity name."""

    def __init__(self, entity: str) -> None:
        super().__init__(f"the host has no record store for entity {entity!r}")
        self.entity = entity
