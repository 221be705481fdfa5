"""Realistic seed data for the demo: names from several languages, companies, phones, notes."""

from __future__ import annotations

import datetime as dt
import random
from email.message import EmailMessage
from typing import Any

GIVEN = [
    "Anna",
    "Björn",
    "Chloé",
    "Dörte",
    "Émile",
    "Fátima",
    "Gösta",
    "Hélène",
    "Íñigo",
    "Jürgen",
    "Kübra",
    "Łukasz",
    "Mårten",
    "Núria",
    "Øyvind",
    "Paweł",
    "Renée",
    "Søren",
    "Tomás",
    "Zoë",
]
SURNAMES = [
    "Müller",
    "Åström",
    "Dubois",
    "García",
    "Kowalski",
    "Nørgaard",
    "Öztürk",
    "Schäfer",
    "Žukauskas",
    "Brontë",
    "Lefèvre",
    "Sánchez",
    "Østergaard",
    "Wiśniewski",
    "Çelik",
]
COMPANIES = [
    "Müller & Söhne GmbH",
    "Éclair SARL",
    "Nørrebro Cykler ApS",
    "Zürich Präzision AG",
    "Kraków Logistyka Sp. z o.o.",
    None,
]
TITLES = ["Einkauf", "Vertrieb", "Directrice", "CTO", "Buchhaltung", None]
CITIES = [
    ("Hauptstraße 1", "Berlin", "10115", "Deutschland"),
    ("Rue de Rivoli 12", "Paris", "75001", "France"),
    ("Nørrebrogade 5", "København", "2200", "Danmark"),
    ("ul. Floriańska 3", "Kraków", "31-019", "Polska"),
]


def erp_address(rng: random.Random, n: int) -> dict[str, Any]:
    """An ERP address record (the contacts item type's fields)."""
    given, surname = rng.choice(GIVEN), rng.choice(SURNAMES)
    street, city, postal, country = rng.choice(CITIES)
    slug = f"{given}.{surname}".lower().encode("ascii", "ignore").decode() or "kontakt"
    return {
        "display_name": f"{given} {surname} ({n:03d})",
        "given_name": given,
        "surname": surname,
        "company": rng.choice(COMPANIES),
        "job_title": rng.choice(TITLES),
        "emails": [f"{slug}.{n}@kunde.example"],
        "phones": {
            "business": f"+49 30 {rng.randint(1000000, 9999999)}",
            "mobile": None,
            "home": None,
            "fax": None,
        },
        "addresses": {
            "business": {
                "street": street,
                "city": city,
                "state": None,
                "postal_code": postal,
                "country": country,
            }
        },
        "categories": rng.sample(["Kunde", "Lieferant", "VIP"], k=rng.randint(0, 2)),
        "notes": "Angelegt im ERP. Zahlt pünktlich." if n % 7 == 0 else None,
    }


def outlook_contact(rng: random.Random, n: int) -> dict[str, Any]:
    """Fields of a contact created in Outlook (emulator seeding names)."""
    given, surname = rng.choice(GIVEN), rng.choice(SURNAMES)
    return {
        "DisplayName": f"{given} {surname} [Outlook {n:02d}]",
        "GivenName": given,
        "Surname": surname,
        "CompanyName": rng.choice([c for c in COMPANIES if c]),
        "EmailAddresses": {"EmailAddress1": f"outlook{n}@partner.example"},
    }


def mail(n: int, to: str) -> bytes:
    """A small RFC 5322 message."""
    msg = EmailMessage()
    msg["From"] = "Zoë Brontë <zoe@partner.example>"
    msg["To"] = to
    msg["Subject"] = f"Angebot Nr. {1000 + n} - Rückfrage"
    msg["Message-ID"] = f"<demo-{n}-{to}>"
    msg.set_content(f"Guten Tag,\n\nanbei unser Angebot {1000 + n}.\n\nGrüße\nZoë\n")
    return bytes(msg)


def appointments(today: dt.date) -> list[dict[str, Any]]:
    """Anna's appointments around ``today``: timed, all-day and a weekly series (within the sync window)."""
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")

    def at(days: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(hour), berlin)

    return [
        {"subject": "Jahresgespräch Müller & Söhne", "start": at(1, 9), "end": at(1, 10),
         "timezone": "Europe/Berlin", "location": "Besprechungsraum Zürich", "reminder_minutes": 15},
        {"subject": "Messe Köln (ganztägig)", "all_day": True, "start": today + dt.timedelta(days=5),
         "end": today + dt.timedelta(days=6), "timezone": "Europe/Berlin"},
        {"subject": "Wöchentliche Vertriebsrunde", "start": at(2, 8), "end": at(2, 9), "timezone": "Europe/Berlin",
         "recurrence": {"pattern": "weekly", "interval": 1,
                        "weekdays": [(today + dt.timedelta(days=2)).strftime("%A").lower()], "count": 10}},
        {"subject": "Telefonat Éclair SARL", "start": at(3, 14), "end": at(3, 15), "timezone": "Europe/Paris",
         "sensitivity": "private"},
    ]  # fmt: skip


def tasks(today: dt.date) -> list[dict[str, Any]]:
    """Anna's tasks: open, in progress and done."""

    return [
        {"subject": "Angebot für Kraków Logistyka schreiben", "due_date": today + dt.timedelta(days=3),
         "status": "in_progress", "percent_complete": 40, "importance": "high"},
        {"subject": "Rechnung 2026-117 prüfen", "due_date": today + dt.timedelta(days=1)},
        {"subject": "Messestand buchen", "status": "completed", "percent_complete": 100},
    ]  # fmt: skip
