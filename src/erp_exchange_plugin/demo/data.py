"""Realistic seed data for the demo: names from several languages, companies, phones, notes."""

from __future__ import annotations

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
