"""Time-zone names on both sides: IANA names in the ERP, Windows ids in Exchange.

Exchange stores a calendar item's zones as Windows ids (``StartTimeZone Id="W. Europe Standard
Time"``); the ERP stores IANA names (``Europe/Berlin``). exchangelib translates with CLDR's tables
(``exchangelib.winzone``) and turns an id it does not know into ``None`` with a warning. Mailboxes
hold more ids than CLDR knows: legacy Windows ids that Microsoft has since renamed, and localised
names written by third-party clients (exchangelib#1197). :data:`EXTRA_WINDOWS_ZONES` adds those;
:func:`register` puts them into exchangelib's table (its documented fix), once per process.

Windows zones are coarser than IANA zones (``Europe/Copenhagen`` and ``Europe/Paris`` are both
"Romance Standard Time"), so a zone name only survives a round trip through Exchange as the
Windows zone's own IANA name. :func:`canonical_zone` gives that name; both sides of the calendar
mapping pass their zone through it, so equal zones give equal fingerprints.
"""

from __future__ import annotations

import threading
import zoneinfo
from typing import Final

from exchangelib import EWSTimeZone
from exchangelib.winzone import IANA_TO_MS_TIMEZONE_MAP, MS_TIMEZONE_TO_IANA_MAP

from erp_exchange_plugin.plugin_types import RecordInvalid

EXTRA_WINDOWS_ZONES: Final[dict[str, str]] = {
    # legacy Windows ids, renamed or split by Microsoft, still found on old items
    "Mexico Standard Time": "America/Mexico_City",
    "Mexico Standard Time 2": "America/Chihuahua",
    "Mid-Atlantic Standard Time": "Etc/GMT+2",
    "Kamchatka Standard Time": "Asia/Kamchatka",
    "Armenian Standard Time": "Asia/Yerevan",
    # a localised name written by a German Outlook/third-party client (exchangelib#1197)
    "Mitteleuropäische Zeit": "Europe/Berlin",
}
"""Windows ids exchangelib does not map -> IANA names (each of which exchangelib maps back)."""

UTC_ZONE: Final = "UTC"

_lock = threading.Lock()
_done = False


def register() -> None:
    """Teach exchangelib :data:`EXTRA_WINDOWS_ZONES` (idempotent; never overrides its own entries)."""
    global _done
    with _lock:
        if _done:
            return
        for windows_id, iana in EXTRA_WINDOWS_ZONES.items():
            MS_TIMEZONE_TO_IANA_MAP.setdefault(windows_id, iana)
        _done = True


def windows_id(iana: str) -> str:
    """The Windows id Exchange stores for an IANA zone.

    :raises RecordInvalid: the name is no IANA zone, or no Windows zone is known for it.
    """
    try:
        zoneinfo.ZoneInfo(iana)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise RecordInvalid("timezone", f"{iana!r} is not an IANA time zone name") from None
    found = IANA_TO_MS_TIMEZONE_MAP.get(iana)
    if found is None:
        raise RecordInvalid("timezone", f"{iana!r} has no Windows time zone that Exchange could store")
    return str(found[0])


def iana_name(windows: str) -> str | None:
    """The IANA name for a Windows id (``None`` when unknown, even with our extras)."""
    register()
    iana: str | None = MS_TIMEZONE_TO_IANA_MAP.get(windows)
    if iana is None and "/" in windows:
        iana = windows if windows in IANA_TO_MS_TIMEZONE_MAP else None  # Exchange sometimes sends IANA names
    return iana


def canonical_zone(name: str, field: str = "timezone") -> str:
    """The IANA name a zone comes back from Exchange as (``Europe/Copenhagen`` -> ``Europe/Paris``).

    :raises RecordInvalid: ``name`` is unknown (names ``field``).
    """
    try:
        iana = iana_name(windows_id(name))
    except RecordInvalid as exc:
        raise RecordInvalid(field, exc.message) from None
    if iana is None:  # pragma: no cover - CLDR maps every Windows id it produces back
        raise RecordInvalid(field, f"{name!r} does not come back from Exchange")
    # "UTC" maps to Windows "UTC", which CLDR maps back to "Etc/UTC": keep the familiar spelling
    return UTC_ZONE if iana in ("Etc/UTC", "UTC") else iana


def ews_zone(iana: str) -> EWSTimeZone:
    """exchangelib's zone object for a canonical IANA name."""
    return EWSTimeZone(iana)


def zone_of(tz: EWSTimeZone | None) -> str:
    """The canonical IANA name of a zone exchangelib parsed (``UTC`` when missing or unknown)."""
    if tz is None:
        return UTC_ZONE
    return canonical_zone(str(tz.key))
