"""EWS operations, one module per operation or group; :data:`OPERATIONS` maps operation names to handlers.

A handler takes the :class:`~.context.OperationContext` and the operation element (the child of ``s:Body``)
and returns the ``m:{Operation}Response`` element.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree  # type: ignore[import-untyped]

from .attachments import create_attachment, delete_attachment, get_attachment
from .context import OperationContext
from .convert import convert_id
from .create import create_item
from .delete import delete_item
from .find import find_item
from .folders import create_folder, delete_folder, find_folder, get_folder
from .get import get_item
from .move import copy_item, move_item
from .sync import sync_folder_items
from .update import update_item

Handler = Callable[[OperationContext, etree._Element], etree._Element]

OPERATIONS: dict[str, Handler] = {
    "GetFolder": get_folder,
    "FindFolder": find_folder,
    "CreateFolder": create_folder,
    "DeleteFolder": delete_folder,
    "FindItem": find_item,
    "GetItem": get_item,
    "CreateItem": create_item,
    "UpdateItem": update_item,
    "DeleteItem": delete_item,
    "MoveItem": move_item,
    "CopyItem": copy_item,
    "SyncFolderItems": sync_folder_items,
    "ConvertId": convert_id,
    "CreateAttachment": create_attachment,
    "GetAttachment": get_attachment,
    "DeleteAttachment": delete_attachment,
}

__all__ = ["OPERATIONS", "Handler", "OperationContext"]
