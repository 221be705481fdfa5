"""What every EWS operation handler gets: the store, the caller, the target mailbox, and shared helpers.

Also resolves the folder and item ids of a request (``t:DistinguishedFolderId`` with optional ``t:Mailbox``,
``t:FolderId``, ``t:ItemId``) into store objects, raising :class:`~..items.ItemError` with the code Exchange
uses: ErrorInvalidIdMalformed, ErrorItemNotFound, ErrorFolderNotFound, ErrorNonExistentMailbox,
ErrorAccessDenied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped]

from ..auth import Principal
from ..clock import Clock
from ..ids import MalformedId, SyncStateCodec, parse_id
from ..items import ItemError, ItemModel
from ..recurrence import Occurrence, find_occurrence
from ..soap import M_NS, SoapRequest, local, t
from ..store import Folder, Item, Mailbox, Store


@dataclass
class OperationContext:
    """Per-request state handed to an operation handler."""

    store: Store
    model: ItemModel
    clock: Clock
    sync_codec: SyncStateCodec
    principal: Principal
    mailbox: Mailbox
    request: SoapRequest
    deliver: Callable[[str, bytes], object]

    def now(self) -> dt.datetime:
        """The emulator's current time."""
        return self.clock.now()

    def open_mailbox(self, address: str) -> Mailbox:
        """A mailbox named in the request, after the caller's rights on it are checked."""
        if address.lower() == self.mailbox.address:
            return self.mailbox
        other = self.store.mailbox(address)
        if other is None:
            raise ItemError("ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.")
        if not self.principal.may_open(other):
            raise ItemError(
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again., Cannot open mailbox.",
            )
        return other

    def folder(self, el: etree._Element) -> tuple[Mailbox, Folder]:
        """Resolve a DistinguishedFolderId or FolderId element."""
        name = local(el.tag)
        if name == "DistinguishedFolderId":
            address = el.findtext(f"{t('Mailbox')}/{t('EmailAddress')}")
            mailbox = self.open_mailbox(address) if address else self.mailbox
            folder = mailbox.by_name.get(el.get("Id", ""))
            if folder is None:
                raise ItemError(
                    "ErrorFolderNotFound", "The specified folder could not be found in the store."
                )
            return mailbox, folder
        if name == "FolderId":
            try:
                parsed = parse_id(el.get("Id", ""))
            except MalformedId:
                raise ItemError("ErrorInvalidIdMalformed", "Id is malformed.") from None
            if parsed.is_item:
                raise ItemError("ErrorInvalidIdNotAnItemAttachmentId", "The id is not a folder id.")
            mailbox = self.open_mailbox(parsed.mailbox)
            found = mailbox.folders.get(el.get("Id", ""))
            if found is None:
                raise ItemError(
                    "ErrorFolderNotFound", "The specified folder could not be found in the store."
                )
            return mailbox, found
        raise ItemError("ErrorInvalidIdMalformed", f"Unsupported folder id element {name}.")

    def item(self, el: etree._Element) -> tuple[Mailbox, Folder, Item]:
        """Resolve an ItemId element to (mailbox, folder, item); occurrences are refused."""
        mailbox, folder, item, occurrence = self.item_or_occurrence(el)
        if occurrence is not None:
            raise ItemError("ErrorInvalidOperation", "The EWS emulator does not modify single occurrences.")
        return mailbox, folder, item

    def item_or_occurrence(self, el: etree._Element) -> tuple[Mailbox, Folder, Item, Occurrence | None]:
        """Resolve ItemId (also of an occurrence), OccurrenceItemId or RecurringMasterItemId.

        For an occurrence the item is its recurring master and the occurrence is returned beside it.
        """
        name = local(el.tag)
        index: int | None = None
        if name == "OccurrenceItemId":
            value, index = el.get("RecurringMasterId", ""), int(el.get("InstanceIndex", "0"))
        elif name == "RecurringMasterItemId":
            value = el.get("OccurrenceId", "")
        else:
            value = el.get("Id", "")
        try:
            parsed = parse_id(value)
        except MalformedId:
            raise ItemError("ErrorInvalidIdMalformed", "Id is malformed.") from None
        if not parsed.is_item:
            raise ItemError("ErrorInvalidIdMalformed", "Id is malformed.")
        if parsed.master_id is not None:
            value = parsed.master_id
            if name != "RecurringMasterItemId":
                index = parsed.occurrence
        mailbox = self.open_mailbox(parsed.mailbox)
        found = mailbox.locate(value)
        if found is None:
            raise ItemError("ErrorItemNotFound", "The specified object was not found in the store.")
        folder, item = found
        if index is None:
            return mailbox, folder, item, None
        occurrence = find_occurrence(item, index)
        if occurrence is None:
            raise ItemError(
                "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                "The occurrence index is out of the recurrence range.",
            )
        return mailbox, folder, item, occurrence


def item_id_element(item: Item, kind_wrapper: bool = True) -> etree._Element:
    """``<t:{Kind}><t:ItemId Id ChangeKey/></t:{Kind}>`` (or just the ItemId)."""
    iid = etree.Element(t("ItemId"))
    iid.set("Id", item.item_id)
    iid.set("ChangeKey", item.change_key)
    if not kind_wrapper:
        return iid
    wrapper = etree.Element(t(item.kind))
    wrapper.append(iid)
    return wrapper


def children(parent: etree._Element, container: str) -> list[etree._Element]:
    """The element children of ``parent``'s ``m:{container}`` (empty if absent)."""
    el = parent.find(f"{{{M_NS}}}{container}")
    return [] if el is None else [c for c in el if isinstance(c.tag, str)]
