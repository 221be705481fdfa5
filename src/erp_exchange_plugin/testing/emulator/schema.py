"""The EWS XML schema (Exchange 2016 era, ``xsd/``): validation and element order/type look-ups.

The schema files are Microsoft's ``messages.xsd``/``types.xsd`` as published with php-ews, patched to load
with lxml (see ``../shared/notes/local-servers.md``). The emulator uses them twice:

* :meth:`EwsSchema.validate` checks an operation element (the child of ``s:Body``) of a request or response;
* :meth:`EwsSchema.children` gives the ordered child elements of a complex type (following ``xs:extension``),
  so items are rendered in the order the schema demands, and their values normalised by type.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped]

XSD_DIR = Path(__file__).with_name("xsd")
XS = "http://www.w3.org/2001/XMLSchema"


@dataclass(frozen=True)
class ChildElement:
    """One element of a complex type's content model: its name and its (prefixed) XSD type name."""

    name: str
    type_name: str


class SchemaViolation(Exception):
    """An element that does not validate; ``line`` is 1-based within the serialised element."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class EwsSchema:
    """The compiled schema plus an index of the complex and simple types of types.xsd."""

    def __init__(self, xsd_dir: Path = XSD_DIR) -> None:
        self._schema = etree.XMLSchema(etree.parse(str(xsd_dir / "messages.xsd")))
        self._lock = threading.Lock()  # lxml schema objects are not documented as thread-safe
        types_doc = etree.parse(str(xsd_dir / "types.xsd"))
        self._complex = {
            el.get("name"): el for el in types_doc.getroot().iterchildren(f"{{{XS}}}complexType")
        }
        self._simple = {el.get("name"): el for el in types_doc.getroot().iterchildren(f"{{{XS}}}simpleType")}

    def validate(self, element: etree._Element) -> None:
        """Raise :class:`SchemaViolation` unless ``element`` is valid against messages.xsd."""
        doc = element if element.getparent() is None else etree.fromstring(etree.tostring(element))
        with self._lock:
            ok = self._schema.validate(doc)
            if ok:
                return
            error = self._schema.error_log.last_error
        raise SchemaViolation(f"{error.message} (line {error.line})", error.line, error.column)

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one schema per process, lives as long as it
    def children(self, type_name: str) -> tuple[ChildElement, ...]:
        """The child elements of complex type ``type_name`` (no prefix), base types first, in order."""
        node = self._complex.get(type_name)
        if node is None:
            return ()
        result: list[ChildElement] = []
        ext = node.find(f"{{{XS}}}complexContent/{{{XS}}}extension")
        if ext is not None:
            result.extend(self.children(ext.get("base", "").split(":")[-1]))
            node = ext
        self._collect(node, result)
        return tuple(result)

    def _collect(self, node: etree._Element, into: list[ChildElement]) -> None:
        for child in node:
            tag = child.tag
            if tag == f"{{{XS}}}element" and child.get("name"):
                into.append(ChildElement(child.get("name", ""), child.get("type", "")))
            elif tag in (f"{{{XS}}}sequence", f"{{{XS}}}choice"):
                self._collect(child, into)

    @functools.lru_cache(maxsize=1024)  # noqa: B019
    def base_kind(self, type_name: str) -> str:
        """Reduce a type name to 'boolean', 'dateTime', 'int', 'string', or 'complex'."""
        local = type_name.split(":")[-1]
        if type_name.startswith("xs:"):
            if local in ("int", "long", "short", "double", "decimal", "integer", "unsignedInt"):
                return "int" if local != "double" and local != "decimal" else "number"
            return local if local in ("boolean", "dateTime", "date") else "string"
        if local in self._complex:
            return "complex"
        simple = self._simple.get(local)
        if simple is not None:
            restriction = simple.find(f"{{{XS}}}restriction")
            if restriction is not None and restriction.get("base"):
                return self.base_kind(restriction.get("base", ""))
        return "string"


_instance: EwsSchema | None = None
_instance_lock = threading.Lock()


def get_schema() -> EwsSchema:
    """The process-wide schema (compiled once, about 0.3 s)."""
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = EwsSchema()
        return _instance
