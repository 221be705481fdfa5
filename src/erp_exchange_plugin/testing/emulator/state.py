"""The ``--state`` file: the store, the app credentials and the sync-state key as JSON.

With it, ids, change keys, sync states and secrets stay valid across restarts. It is written atomically with
mode 0600 (it holds secrets).
"""

from __future__ import annotations

import base64
import copy
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from .items import extended_key
from .soap import T_NS, local, t
from .store import Attachment, Folder, Item, Mailbox, Store, Tombstone

VERSION = 2


@dataclass
class SavedState:
    """What a state file holds; :meth:`restore` fills a fresh store."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    sync_key: bytes = field(repr=False)
    data: dict[str, Any] = field(repr=False)

    def restore(self, store: Store) -> None:
        """Recreate mailboxes, folders (distinguished and created), items and tombstones."""
        with store.lock:
            store.seq = int(self.data["seq"])
            for mb in self.data["mailboxes"]:
                mailbox = Mailbox(mb["address"], mb.get("password"), delegates=set(mb.get("delegates", [])))
                for fd in mb["folders"]:
                    folder = Folder(
                        fd["folder_id"], mailbox.address, fd["distinguished"], fd["display_name"],
                        fd["folder_class"], fd["parent_id"], fd["element"], fd["default_kind"],
                        epoch=fd["epoch"], last_seq=fd["last_seq"],
                    )  # fmt: skip
                    mailbox.folders[folder.folder_id] = folder
                    if folder.distinguished:
                        mailbox.by_name[folder.distinguished] = folder
                    for it in fd["items"]:
                        item = _item_from_json(it)
                        folder.items[item.item_id] = item
                        mailbox.item_index[item.item_id] = folder.folder_id
                    folder.tombstones = {k: Tombstone(v[0], v[1]) for k, v in fd["tombstones"].items()}
                store.mailboxes[mailbox.address] = mailbox


def _item_to_json(item: Item) -> dict[str, Any]:
    holder = etree.Element(t(item.kind), nsmap={"t": T_NS})
    holder.extend(copy.deepcopy(list(item.props.values())))
    holder.extend(copy.deepcopy(list(item.extended.values())))
    xml = etree.tostring(holder).decode()
    return {
        "item_id": item.item_id,
        "kind": item.kind,
        "xml": xml,
        "mime": base64.b64encode(item.mime).decode() if item.mime is not None else None,
        "version": item.version,
        "salt": item.salt.hex(),
        "field_versions": item.field_versions,
        "seqs": [item.created_seq, item.last_seq, item.content_seq],
        "deleted_occurrences": sorted(item.deleted_occurrences),
        "attachments": [
            {**asdict(a), "content": base64.b64encode(a.content).decode()} for a in item.attachments
        ],
        "modified_occurrences": {
            str(index): {
                name: etree.tostring(el).decode() if el is not None else None for name, el in props.items()
            }
            for index, props in item.modified_occurrences.items()
        },
    }


def _item_from_json(data: dict[str, Any]) -> Item:
    holder = etree.fromstring(data["xml"].encode())
    item = Item(item_id=data["item_id"], kind=data["kind"])
    for child in holder:
        if local(child.tag) == "ExtendedProperty":
            uri = child.find(t("ExtendedFieldURI"))
            assert uri is not None
            item.extended[extended_key(uri)] = child
        else:
            item.props[local(child.tag)] = child
    item.mime = base64.b64decode(data["mime"]) if data["mime"] is not None else None
    item.version = int(data["version"])
    item.salt = bytes.fromhex(data["salt"])
    item.field_versions = {k: int(v) for k, v in data["field_versions"].items()}
    item.created_seq, item.last_seq, item.content_seq = (int(s) for s in data["seqs"])
    item.deleted_occurrences = {int(i) for i in data.get("deleted_occurrences", [])}
    item.attachments = [
        Attachment(**{**a, "content": base64.b64decode(a["content"])}) for a in data.get("attachments", [])
    ]
    item.modified_occurrences = {
        int(index): {name: etree.fromstring(xml.encode()) if xml else None for name, xml in props.items()}
        for index, props in data.get("modified_occurrences", {}).items()
    }
    return item


def save_state(
    path: Path, store: Store, *, tenant_id: str, client_id: str, client_secret: str, sync_key: bytes
) -> None:
    """Write the state file (caller holds ``store.lock``)."""
    mailboxes = []
    for mailbox in store.mailboxes.values():
        folders = [
            {
                "folder_id": folder.folder_id,
                "distinguished": folder.distinguished,
                "display_name": folder.display_name,
                "folder_class": folder.folder_class,
                "parent_id": folder.parent_id,
                "element": folder.element,
                "default_kind": folder.default_kind,
                "epoch": folder.epoch,
                "last_seq": folder.last_seq,
                "items": [_item_to_json(item) for item in folder.items.values()],
                "tombstones": {k: [v.created_seq, v.deleted_seq] for k, v in folder.tombstones.items()},
            }
            for folder in mailbox.folders.values()
        ]
        mailboxes.append(
            {
                "address": mailbox.address,
                "password": mailbox.password,
                "delegates": sorted(mailbox.delegates),
                "folders": folders,
            }
        )
    payload = {
        "version": VERSION,
        "tenant_id": tenant_id,
        "client_id": client_id,
        "client_secret": client_secret,
        "sync_key": sync_key.hex(),
        "seq": store.seq,
        "mailboxes": mailboxes,
    }
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh)
    os.replace(tmp, path)


def load_state(path: Path) -> SavedState:
    """Read a state file written by :func:`save_state`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError(f"{path}: not an emulator state file of version {VERSION}")
    missing = {"tenant_id", "client_id", "client_secret", "sync_key", "seq", "mailboxes"} - set(data)
    if missing:
        raise ValueError(f"{path}: state file lacks {', '.join(sorted(missing))}")
    return SavedState(
        data["tenant_id"], data["client_id"], data["client_secret"], bytes.fromhex(data["sync_key"]), data
    )
