"""Extended properties we put on Exchange items.

- ``erp_id``: the ERP record an item was created from (or paired with); it is how a crashed
  run finds what it already wrote, and how a full resync matches items instead of copying them;
- ``erp_installation``: the installation (state database) that wrote it, so two installations
  never fight over one mailbox;
- ``display_name_prefix``: the contact's title ("Dr."), MAPI's PidTagDisplayNamePrefix, which
  EWS exposes only as an extended property.

:func:`register` adds them to exchangelib's item classes (idempotent; exchangelib keeps
registrations per class, so each concrete class is registered).
"""

from __future__ import annotations

import threading
from typing import Final

from exchangelib import CalendarItem, Contact, Message, Task
from exchangelib.extended_properties import ExtendedProperty

PROPERTY_SET_ID: Final = "8b3f6a4e-2c1d-4e5f-9a7b-0c1d2e3f4a5b"
"""Our own property set (a GUID of this project): lower-case, exactly as exchangelib sends it."""


class ErpId(ExtendedProperty):  # type: ignore[misc]
    """The ERP record id of an item we created or paired."""

    property_set_id = PROPERTY_SET_ID
    property_name = "ErpId"
    property_type = "String"


class ErpInstallation(ExtendedProperty):  # type: ignore[misc]
    """The installation id of the connector that wrote the item."""

    property_set_id = PROPERTY_SET_ID
    property_name = "ErpInstallation"
    property_type = "String"


class DisplayNamePrefix(ExtendedProperty):  # type: ignore[misc]
    """PidTagDisplayNamePrefix (0x3A45): a contact's title such as "Dr."."""

    property_tag = 0x3A45
    property_type = "String"


ITEM_CLASSES: Final = (Contact, CalendarItem, Task, Message)
_lock = threading.Lock()
_done = False
_extra: set[type] = set()


def register_on(item_class: type) -> None:
    """Register ``erp_id`` and ``erp_installation`` on another exchangelib item class (for plugins' item types).

    Idempotent; the engine stamps these on every item it creates and reads them back on every item it syncs.
    """
    register()
    with _lock:
        if item_class in ITEM_CLASSES or item_class in _extra:
            return
        item_class.register("erp_id", ErpId)  # type: ignore[attr-defined]
        item_class.register("erp_installation", ErpInstallation)  # type: ignore[attr-defined]
        _extra.add(item_class)


def register() -> None:
    """Register our extended properties on exchangelib's item classes (once per process)."""
    global _done
    with _lock:
        if _done:
            return
        for cls in ITEM_CLASSES:
            cls.register("erp_id", ErpId)
            cls.register("erp_installation", ErpInstallation)
        Contact.register("display_name_prefix", DisplayNamePrefix)
        _done = True
