"""Normalising text values the same way on both sides of a sync."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from erp_exchange_plugin.plugin_types import RecordInvalid


def clean(name: str, value: Any, *, max_length: int = 255, multiline: bool = False) -> str | None:
    """A trimmed string, or ``None`` for nothing; anything but a string is an error naming ``name``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordInvalid(name, f"must be text, not {type(value).__name__}")
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = (
        "\n".join(line.rstrip() for line in text.split("\n")).strip() if multiline else " ".join(text.split())
    )
    if not text:
        return None
    if len(text) > max_length:
        raise RecordInvalid(name, f"is longer than {max_length} characters")
    return text


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable plain text of an HTML body (Outlook stores notes edited there as HTML)."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts)).replace("\xa0", " ")
    return re.sub(r"\n{3,}", "\n\n", text)
