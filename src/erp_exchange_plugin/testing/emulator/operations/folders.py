"""Folder operations: GetFolder, FindFolder, CreateFolder and DeleteFolder.

Every mailbox has the distinguished folders (root, msgfolderroot, inbox, contacts, calendar, tasks ...);
clients may create subfolders anywhere (their FolderClass decides what items they hold) and delete them again.
"""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]

from ..items import ItemError
from ..soap import error_message, local, m, response_root, success_message, t
from ..store import Folder, Mailbox
from .context import OperationContext, children

_FOLDER_TYPES = {
    "Folder": "FolderType",
    "ContactsFolder": "ContactsFolderType",
    "CalendarFolder": "CalendarFolderType",
    "TasksFolder": "TasksFolderType",
}
_DEFAULT = {"FolderId", "DisplayName", "TotalCount", "ChildFolderCount", "UnreadCount"}


def _value(mailbox: Mailbox, folder: Folder, name: str) -> etree._Element | None:
    el = etree.Element(t(name))
    if name in ("FolderId", "ParentFolderId"):
        fid = folder.folder_id if name == "FolderId" else folder.parent_id
        if fid is None:
            return None
        el.set("Id", fid)
        el.set("ChangeKey", mailbox.folders[fid].change_key)
    elif name == "FolderClass":
        if folder.folder_class is None:
            return None
        el.text = folder.folder_class
    elif name == "DisplayName":
        el.text = folder.display_name
    elif name == "TotalCount":
        el.text = str(len(folder.items))
    elif name == "ChildFolderCount":
        el.text = str(len(mailbox.children(folder)))
    elif name == "UnreadCount":
        el.text = str(
            sum(1 for i in folder.items.values() if i.kind == "Message" and i.text("IsRead") == "false")
        )
    elif name == "DistinguishedFolderId":
        if folder.distinguished is None:
            return None
        el.text = folder.distinguished
    elif name == "EffectiveRights":
        for right in ("CreateAssociated", "CreateContents", "CreateHierarchy", "Delete", "Modify", "Read"):
            etree.SubElement(el, t(right)).text = "true"
        etree.SubElement(el, t("ViewPrivateItems")).text = "true"
    else:
        return None
    return el


def render_folder(
    ctx: OperationContext, mailbox: Mailbox, folder: Folder, shape: etree._Element | None
) -> etree._Element:
    """A folder element in schema order for a FolderShape."""
    base = shape.findtext(t("BaseShape")) if shape is not None else "IdOnly"
    wanted = {"FolderId"}
    if base in ("Default", "AllProperties"):
        wanted |= _DEFAULT
    if base == "AllProperties":
        wanted |= {"ParentFolderId", "FolderClass", "EffectiveRights"}
    extra = shape.find(t("AdditionalProperties")) if shape is not None else None
    for path in extra if extra is not None else ():
        wanted.add(path.get("FieldURI", "").rsplit(":", 1)[-1])
    out = etree.Element(t(folder.element))
    for child in ctx.model.schema.children(_FOLDER_TYPES[folder.element]):
        if child.name in wanted:
            el = _value(mailbox, folder, child.name)
            if el is not None:
                out.append(el)
    return out


def get_folder(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """GetFolder: one response message per requested folder."""
    root, messages = response_root("GetFolder")
    shape = op.find(m("FolderShape"))
    for fid in children(op, "FolderIds"):
        try:
            mailbox, folder = ctx.folder(fid)
        except ItemError as exc:
            error_message(messages, "GetFolder", exc.code, exc.message)
            continue
        msg = success_message(messages, "GetFolder")
        etree.SubElement(msg, m("Folders")).append(render_folder(ctx, mailbox, folder, shape))
    return root


def find_folder(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """FindFolder: children (Shallow) or all descendants (Deep) of each parent, with IndexedPageFolderView."""
    root, messages = response_root("FindFolder")
    shape = op.find(m("FolderShape"))
    deep = op.get("Traversal", "Shallow") == "Deep"
    paged = op.find(m("IndexedPageFolderView"))
    for fid in children(op, "ParentFolderIds"):
        try:
            mailbox, parent = ctx.folder(fid)
        except ItemError as exc:
            error_message(messages, "FindFolder", exc.code, exc.message)
            continue
        found = mailbox.descendants(parent) if deep else mailbox.children(parent)
        total, offset, limit = len(found), 0, len(found)
        if paged is not None:
            offset = int(paged.get("Offset", "0"))
            limit = int(paged.get("MaxEntriesReturned", str(total)) or total)
        page = found[offset : offset + limit]
        msg = success_message(messages, "FindFolder")
        root_folder = etree.SubElement(msg, m("RootFolder"))
        root_folder.set("IndexedPagingOffset", str(offset + len(page)))
        root_folder.set("TotalItemsInView", str(total))
        root_folder.set("IncludesLastItemInRange", "true" if offset + len(page) >= total else "false")
        container = etree.SubElement(root_folder, t("Folders"))
        for folder in page:
            container.append(render_folder(ctx, mailbox, folder, shape))
    return root


def create_folder(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """CreateFolder: one response message per new folder."""
    root, messages = response_root("CreateFolder")
    parent_el = op.find(m("ParentFolderId"))
    for element in children(op, "Folders"):
        try:
            if parent_el is None or len(parent_el) == 0:
                raise ItemError("ErrorInvalidIdEmpty", "ParentFolderId is missing.")
            mailbox, parent = ctx.folder(parent_el[0])
            name = (element.findtext(t("DisplayName")) or "").strip()
            if not name:
                raise ItemError("ErrorInvalidFolderId", "A folder needs a DisplayName.")
            if any(f.display_name.lower() == name.lower() for f in mailbox.children(parent)):
                raise ItemError("ErrorFolderExists", "A folder with the specified name already exists.")
            kind = local(element.tag)
            if kind not in _FOLDER_TYPES:
                raise ItemError("ErrorInvalidOperation", f"The EWS emulator does not create {kind} folders.")
            folder = ctx.store.add_folder(mailbox, parent, name, kind, element.findtext(t("FolderClass")))
        except ItemError as exc:
            error_message(messages, "CreateFolder", exc.code, exc.message)
            continue
        msg = success_message(messages, "CreateFolder")
        created = etree.SubElement(etree.SubElement(msg, m("Folders")), t(folder.element))
        fid = etree.SubElement(created, t("FolderId"))
        fid.set("Id", folder.folder_id)
        fid.set("ChangeKey", folder.change_key)
    return root


def delete_folder(ctx: OperationContext, op: etree._Element) -> etree._Element:
    """DeleteFolder: removes the folder, its subfolders and items; distinguished folders stay."""
    root, messages = response_root("DeleteFolder")
    for fid in children(op, "FolderIds"):
        try:
            mailbox, folder = ctx.folder(fid)
            if folder.distinguished is not None:
                raise ItemError("ErrorDeleteDistinguishedFolder", "Distinguished folders cannot be deleted.")
            ctx.store.remove_folder(mailbox, folder)
        except ItemError as exc:
            error_message(messages, "DeleteFolder", exc.code, exc.message)
            continue
        success_message(messages, "DeleteFolder")
    return root
