"""The emulator's mailbox store: mailboxes, folders, items, change keys and per-folder change logs.

Items keep their properties as the EWS elements a client sent (``Item.props``, keyed by element name, plus
``Item.extended`` for extended properties), so rendering them back is faithful. Every write bumps a store-wide
sequence number; each item remembers when it was created and last changed, and deleted items leave a
tombstone. That is all ``SyncFolderItems`` needs: the changes after a watermark, netted per item (see
:meth:`Folder.changes_since`). One re-entrant lock (``Store.lock``) guards everything; operations hold it for
the whole request, which keeps each EWS call atomic.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from lxml import etree  # type: ignore[import-untyped]

from . import ids

#: Distinguished folders: name -> (display name, folder class, parent name, element tag, item kind).
DISTINGUISHED_FOLDERS: dict[str, tuple[str, str | None, str | None, str, str]] = {
    "root": ("", None, None, "Folder", "Message"),
    "msgfolderroot": ("Top of Information Store", "IPF.Note", "root", "Folder", "Message"),
    "inbox": ("Inbox", "IPF.Note", "msgfolderroot", "Folder", "Message"),
    "drafts": ("Drafts", "IPF.Note", "msgfolderroot", "Folder", "Message"),
    "sentitems": ("Sent Items", "IPF.Note", "msgfolderroot", "Folder", "Message"),
    "deleteditems": ("Deleted Items", "IPF.Note", "msgfolderroot", "Folder", "Message"),
    "outbox": ("Outbox", "IPF.Note", "msgfolderroot", "Folder", "Message"),
    "junkemail": ("Junk Email", "IPF.Note", "msgfolderroot", "Folder", "Message"),
    "contacts": ("Contacts", "IPF.Contact", "msgfolderroot", "ContactsFolder", "Contact"),
    "calendar": ("Calendar", "IPF.Appointment", "msgfolderroot", "CalendarFolder", "CalendarItem"),
    "tasks": ("Tasks", "IPF.Task", "msgfolderroot", "TasksFolder", "Task"),
    "recoverableitemsroot": ("Recoverable Items", None, "root", "Folder", "Message"),
    "recoverableitemsdeletions": ("Deletions", None, "recoverableitemsroot", "Folder", "Message"),
    "recoverableitemspurges": ("Purges", None, "recoverableitemsroot", "Folder", "Message"),
    "recoverableitemsversions": ("Versions", None, "recoverableitemsroot", "Folder", "Message"),
}


#: Folder class -> (folder element, item kind) for folders that users or clients create.
FOLDER_KINDS: dict[str, tuple[str, str]] = {
    "IPF.Contact": ("ContactsFolder", "Contact"),
    "IPF.Appointment": ("CalendarFolder", "CalendarItem"),
    "IPF.Task": ("TasksFolder", "Task"),
}
#: Folder element -> default folder class.
ELEMENT_CLASSES = {
    "ContactsFolder": "IPF.Contact",
    "CalendarFolder": "IPF.Appointment",
    "TasksFolder": "IPF.Task",
}


@dataclass
class Attachment:
    """A file attachment of an item (from a delivered message's MIME, or CreateAttachment)."""

    key: str
    name: str
    content_type: str
    content: bytes = field(repr=False)
    is_inline: bool = False
    content_id: str | None = None
    last_modified: str = ""


@dataclass
class Item:
    """One item: its kind (element tag such as ``Contact``), properties and version bookkeeping."""

    item_id: str
    kind: str
    props: dict[str, etree._Element] = field(default_factory=dict)
    extended: dict[str, etree._Element] = field(default_factory=dict)
    mime: bytes | None = None
    version: int = 1
    salt: bytes = field(default_factory=ids.new_salt)
    field_versions: dict[str, int] = field(default_factory=dict)
    created_seq: int = 0
    last_seq: int = 0
    content_seq: int = 0
    deleted_occurrences: set[int] = field(default_factory=set)
    attachments: list[Attachment] = field(default_factory=list)
    #: Exceptions of a recurring master: occurrence index -> property overrides (None = property removed).
    modified_occurrences: dict[int, dict[str, etree._Element | None]] = field(default_factory=dict)

    @property
    def change_key(self) -> str:
        """The current ChangeKey."""
        return ids.change_key(self.version, self.salt)

    def text(self, name: str) -> str | None:
        """Text of a simple property, or None."""
        el = self.props.get(name)
        return None if el is None else (el.text or "")


@dataclass
class Tombstone:
    """What remains of a deleted or moved-away item, for SyncFolderItems."""

    created_seq: int
    deleted_seq: int


@dataclass
class Change:
    """A netted change for SyncFolderItems: kind is create/update/delete/read_flag or None (no-op)."""

    kind: str | None
    item_id: str
    seq: int
    item: Item | None = None


@dataclass
class Folder:
    """A folder with its items (insertion order), tombstones and sync epoch."""

    folder_id: str
    mailbox: str
    distinguished: str | None
    display_name: str
    folder_class: str | None
    parent_id: str | None
    element: str
    default_kind: str
    items: dict[str, Item] = field(default_factory=dict)
    tombstones: dict[str, Tombstone] = field(default_factory=dict)
    epoch: int = 0
    last_seq: int = 0
    version: int = 1

    @property
    def change_key(self) -> str:
        """The folder's ChangeKey."""
        return ids.change_key(self.version, b"\0" * 10)

    def changes_since(self, watermark: int) -> list[Change]:
        """Netted changes after ``watermark``, each with the sequence number that orders it (``Change.seq``).

        New items are ordered by their creation, others by their last change; a page that stops after the
        change with sequence number N returns N as its watermark.
        """
        if watermark >= self.last_seq:
            return []
        changes: list[Change] = []
        for item in self.items.values():
            if item.last_seq <= watermark:
                continue
            # A creation is ordered by its creation, so a page cut never lets a later page see it as an update
            # of an item the client was never told about; the item may then come again as an update.
            if item.created_seq > watermark:
                changes.append(Change("create", item.item_id, item.created_seq, item))
                continue
            kind = "update" if item.content_seq > watermark else "read_flag"
            changes.append(Change(kind, item.item_id, item.last_seq, item))
        for item_id, stone in self.tombstones.items():
            if stone.deleted_seq <= watermark:
                continue
            kind_or_none = None if stone.created_seq > watermark else "delete"
            changes.append(Change(kind_or_none, item_id, stone.deleted_seq))
        changes.sort(key=lambda c: c.seq)
        return changes


@dataclass
class Mailbox:
    """A mailbox: address, optional password for Basic auth, folders, and who may open it as a delegate."""

    address: str
    password: str | None = field(default=None, repr=False)
    folders: dict[str, Folder] = field(default_factory=dict)
    by_name: dict[str, Folder] = field(default_factory=dict)
    item_index: dict[str, str] = field(default_factory=dict)
    delegates: set[str] = field(default_factory=set)

    def folder(self, name: str) -> Folder:
        """A folder by path: a distinguished name, then subfolder display names (``"contacts/ERP"``)."""
        first, *rest = name.split("/")
        folder = self.by_name[first]
        for part in rest:
            folder = next(f for f in self.children(folder) if f.display_name.lower() == part.lower())
        return folder

    def children(self, parent: Folder) -> list[Folder]:
        """The direct subfolders of a folder."""
        return [f for f in self.folders.values() if f.parent_id == parent.folder_id]

    def descendants(self, parent: Folder) -> list[Folder]:
        """All folders below a folder, breadth first."""
        found, pending = [], [parent]
        while pending:
            for child in self.children(pending.pop(0)):
                found.append(child)
                pending.append(child)
        return found

    def locate(self, item_id: str) -> tuple[Folder, Item] | None:
        """The folder and item for an item id of this mailbox, or None."""
        folder_id = self.item_index.get(item_id)
        if folder_id is None:
            return None
        folder = self.folders[folder_id]
        return folder, folder.items[item_id]


class Store:
    """All mailboxes plus the sequence counter that orders every change."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.mailboxes: dict[str, Mailbox] = {}
        self.seq = 0

    def add_mailbox(self, address: str, password: str | None = None) -> Mailbox:
        """Create a mailbox with the distinguished folders (idempotent per address)."""
        key = address.lower()
        with self.lock:
            if key in self.mailboxes:
                return self.mailboxes[key]
            mailbox = Mailbox(address=key, password=password)
            for name, (display, cls, parent, element, kind) in DISTINGUISHED_FOLDERS.items():
                parent_id = mailbox.by_name[parent].folder_id if parent else None
                folder = Folder(ids.new_id(key, False), key, name, display, cls, parent_id, element, kind)
                mailbox.folders[folder.folder_id] = folder
                mailbox.by_name[name] = folder
            self.mailboxes[key] = mailbox
            return mailbox

    def mailbox(self, address: str) -> Mailbox | None:
        """The mailbox for an SMTP address (case-insensitive), or None."""
        return self.mailboxes.get(address.lower())

    def next_seq(self) -> int:
        """Advance and return the change sequence (caller holds the lock)."""
        self.seq += 1
        return self.seq

    # -- writes; callers hold self.lock ---------------------------------------------------------------

    def insert(self, mailbox: Mailbox, folder: Folder, item: Item) -> Item:
        """Add a new item to a folder as a creation."""
        seq = self.next_seq()
        item.created_seq = item.last_seq = item.content_seq = seq
        folder.items[item.item_id] = item
        folder.last_seq = seq
        mailbox.item_index[item.item_id] = folder.folder_id
        return item

    def touch(self, folder: Folder, item: Item, fields: list[str], content: bool = True) -> None:
        """Record a modification: new change key, per-field versions, change-log entry."""
        seq = self.next_seq()
        item.version += 1
        for name in fields:
            item.field_versions[name] = item.version
        item.last_seq = seq
        if content:
            item.content_seq = seq
        folder.last_seq = seq

    def remove(self, mailbox: Mailbox, folder: Folder, item_id: str) -> Item:
        """Remove an item from its folder, leaving a tombstone."""
        item = folder.items.pop(item_id)
        mailbox.item_index.pop(item_id, None)
        seq = self.next_seq()
        folder.tombstones[item_id] = Tombstone(item.created_seq, seq)
        folder.last_seq = seq
        return item

    def add_folder(
        self,
        mailbox: Mailbox,
        parent: Folder,
        name: str,
        element: str = "Folder",
        folder_class: str | None = None,
    ) -> Folder:
        """Create a (non-distinguished) subfolder; its class decides the kind of items it holds."""
        folder_class = folder_class or ELEMENT_CLASSES.get(element, "IPF.Note")
        element, kind = FOLDER_KINDS.get(folder_class, (element, "Message"))
        folder = Folder(
            ids.new_id(mailbox.address, False), mailbox.address, None, name, folder_class, parent.folder_id,
            element, kind, last_seq=self.next_seq(),
        )  # fmt: skip
        mailbox.folders[folder.folder_id] = folder
        return folder

    def remove_folder(self, mailbox: Mailbox, folder: Folder) -> None:
        """Delete a folder with its subfolders and items."""
        for gone in [folder, *mailbox.descendants(folder)]:
            for item_id in gone.items:
                mailbox.item_index.pop(item_id, None)
            del mailbox.folders[gone.folder_id]
