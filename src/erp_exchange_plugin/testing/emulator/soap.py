"""SOAP envelopes for EWS: parsing requests, rendering responses and faults.

A request is parsed into :class:`SoapRequest` (operation element, requested server version, impersonation
address, time zone). Responses are built as lxml elements with the ``m:``/``t:`` prefixes Exchange uses and
wrapped by :func:`envelope` together with ``ServerVersionInfo``. :func:`fault` renders the SOAP faults
Exchange sends with HTTP 500 (``ErrorServerBusy`` with ``BackOffMilliseconds``, ``ErrorSchemaValidation``,
``ErrorImpersonateUserDenied`` ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped]

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
M_NS = "http://schemas.microsoft.com/exchange/services/2006/messages"
T_NS = "http://schemas.microsoft.com/exchange/services/2006/types"
E_NS = "http://schemas.microsoft.com/exchange/services/2006/errors"
NSMAP = {"m": M_NS, "t": T_NS}


def t(name: str) -> str:
    """Clark name of a types-namespace element."""
    return f"{{{T_NS}}}{name}"


def m(name: str) -> str:
    """Clark name of a messages-namespace element."""
    return f"{{{M_NS}}}{name}"


def local(tag: object) -> str:
    """The local part of an element tag."""
    text = str(tag)
    return text.rsplit("}", 1)[-1]


#: ServerVersionInfo per API version string (builds of a typical CU of each release).
SERVER_VERSIONS: dict[str, tuple[int, int, int, int]] = {
    "Exchange2010_SP2": (14, 3, 123, 4),
    "Exchange2013": (15, 0, 516, 32),
    "Exchange2013_SP1": (15, 0, 847, 32),
    "Exchange2016": (15, 1, 2507, 6),
}


class SoapError(Exception):
    """A request that cannot even be parsed as an EWS SOAP envelope."""


@dataclass
class SoapRequest:
    """The parts of an EWS request envelope the emulator acts on."""

    operation: etree._Element
    requested_version: str | None
    impersonated: str | None
    time_zone: str | None

    @property
    def name(self) -> str:
        """The operation's name, e.g. ``GetFolder``."""
        return local(self.operation.tag)


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True, huge_tree=False)


def parse_request(body: bytes) -> SoapRequest:
    """Parse an EWS request; raise :class:`SoapError` if it is not a SOAP envelope with one operation."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapError(f"The request is not well-formed XML: {exc}") from None
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise SoapError("The request is not a SOAP 1.1 envelope.")
    soap_body = root.find(f"{{{SOAP_NS}}}Body")
    if soap_body is None or len(soap_body) != 1:
        raise SoapError("The SOAP body must contain exactly one operation element.")
    operation = soap_body[0]
    header = root.find(f"{{{SOAP_NS}}}Header")
    version = impersonated = time_zone = None
    if header is not None:
        rsv = header.find(t("RequestServerVersion"))
        if rsv is not None:
            version = rsv.get("Version")
        sid = header.find(f"{t('ExchangeImpersonation')}/{t('ConnectingSID')}")
        if sid is not None:
            for child in sid:
                if local(child.tag) in ("PrimarySmtpAddress", "SmtpAddress", "PrincipalName"):
                    impersonated = (child.text or "").strip()
        tz = header.find(f"{t('TimeZoneContext')}/{t('TimeZoneDefinition')}")
        if tz is not None:
            time_zone = tz.get("Id")
    return SoapRequest(operation, version, impersonated, time_zone)


def server_version_info(api_version: str) -> etree._Element:
    """The ``t:ServerVersionInfo`` header element for a configured API version."""
    major, minor, build, rev = SERVER_VERSIONS[api_version]
    el = etree.Element(t("ServerVersionInfo"), nsmap={"h": T_NS})
    el.set("MajorVersion", str(major))
    el.set("MinorVersion", str(minor))
    el.set("MajorBuildNumber", str(build))
    el.set("MinorBuildNumber", str(rev))
    el.set("Version", api_version)
    return el


def envelope(body_child: etree._Element, api_version: str | None) -> bytes:
    """Serialise a response: XML declaration, envelope, ServerVersionInfo header, body."""
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
    if api_version is not None:
        header = etree.SubElement(env, f"{{{SOAP_NS}}}Header")
        header.append(server_version_info(api_version))
    body = etree.SubElement(env, f"{{{SOAP_NS}}}Body")
    body.append(body_child)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def fault(
    code: str,
    message: str,
    api_version: str | None,
    message_xml: Iterable[tuple[str, str]] = (),
    faultcode_prefix: str = "a",
) -> bytes:
    """A SOAP fault as Exchange sends it (HTTP 500); ``message_xml`` is (Name, value) pairs for t:Value."""
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
    if api_version is not None:
        header = etree.SubElement(env, f"{{{SOAP_NS}}}Header")
        header.append(server_version_info(api_version))
    body = etree.SubElement(env, f"{{{SOAP_NS}}}Body")
    flt = etree.SubElement(body, f"{{{SOAP_NS}}}Fault")
    fc = etree.SubElement(flt, "faultcode", nsmap={faultcode_prefix: T_NS})
    fc.text = f"{faultcode_prefix}:{code}"
    fs = etree.SubElement(flt, "faultstring")
    fs.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    fs.text = message
    detail = etree.SubElement(flt, "detail")
    rc = etree.SubElement(detail, f"{{{E_NS}}}ResponseCode", nsmap={"e": E_NS})
    rc.text = code
    msg = etree.SubElement(detail, f"{{{E_NS}}}Message", nsmap={"e": E_NS})
    msg.text = message
    pairs = list(message_xml)
    if pairs:
        mx = etree.SubElement(detail, t("MessageXml"), nsmap={"t": T_NS})
        for name, value in pairs:
            v = etree.SubElement(mx, t("Value"))
            v.set("Name", name)
            v.text = value
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def response_root(operation: str) -> tuple[etree._Element, etree._Element]:
    """``m:{Op}Response`` with its ``m:ResponseMessages``; returns (root, messages container)."""
    root = etree.Element(m(f"{operation}Response"), nsmap=NSMAP)
    messages = etree.SubElement(root, m("ResponseMessages"))
    return root, messages


def success_message(container: etree._Element, operation: str) -> etree._Element:
    """Append a ``ResponseClass="Success"`` message with ``ResponseCode`` NoError."""
    msg = etree.SubElement(container, m(f"{operation}ResponseMessage"))
    msg.set("ResponseClass", "Success")
    etree.SubElement(msg, m("ResponseCode")).text = "NoError"
    return msg


#: Containers that response messages must carry (empty) even on error, as Exchange sends them.
_CONTAINER_ON_ERROR = {
    "GetItem": "Items",
    "CreateItem": "Items",
    "UpdateItem": "Items",
    "MoveItem": "Items",
    "CopyItem": "Items",
    "CreateAttachment": "Attachments",
    "GetAttachment": "Attachments",
}


def error_message(container: etree._Element, operation: str, code: str, text: str) -> etree._Element:
    """Append an error message: MessageText, ResponseCode, DescriptiveLinkKey and any required container."""
    msg = etree.SubElement(container, m(f"{operation}ResponseMessage"))
    msg.set("ResponseClass", "Error")
    etree.SubElement(msg, m("MessageText")).text = text
    etree.SubElement(msg, m("ResponseCode")).text = code
    etree.SubElement(msg, m("DescriptiveLinkKey")).text = "0"
    if operation in _CONTAINER_ON_ERROR:
        etree.SubElement(msg, m(_CONTAINER_ON_ERROR[operation]))
    return msg
