"""One Exchange folder of one mailbox, as the engine sees it: change pages, bulk writes, lookups.

Everything goes through the run's :class:`~erp_exchange_plugin.ews.retry.RetryPolicy`.
Bulk calls are chunked by 100 (EWS's limit per request); per-item failures come back in the
result lists instead of aborting the chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from exchangelib import errors as ex
from exchangelib.fields import FieldPath
from exchangelib.items import (
    ALL_OCCURRENCES,
    ID_ONLY,
    MOVE_TO_DELETED_ITEMS,
    NEVER_OVERWRITE,
    SAVE_ONLY,
    SEND_TO_NONE,
)
from exchangelib.properties import ItemId
from exchangelib.services import SyncFolderItems, UpdateItem

from erp_exchange_plugin.ews.account import Connection
from erp_exchange_plugin.ews.retry import RetryPolicy
from erp_exchange_plugin.plugin_types import EwsMapping

CHUNK: Final = 100
PAGE: Final = 512

if ex.ErrorIrresolvableConflict not in UpdateItem.ERRORS_TO_CATCH_IN_RESPONSE:
    # a stale change key on one item must not abort a whole bulk update (notes/exchangelib.md 2e)
    UpdateItem.ERRORS_TO_CATCH_IN_RESPONSE = (
        *UpdateItem.ERRORS_TO_CATCH_IN_RESPONSE,
        ex.ErrorIrresolvableConflict,
    )


@dataclass(frozen=True, slots=True)
class Change:
    """One change reported by SyncFolderItems.

    :param kind: ``"create"``, ``"update"`` or ``"delete"``.
    :param item: The item with the mapped fields (``None`` for a delete).
    """

    kind: str
    ex_id: str
    change_key: str | None
    item: Any


@dataclass(frozen=True, slots=True)
class Page:
    """One page of changes and the sync state after it."""

    changes: list[Change]
    sync_state: str
    last: bool


class ExchangeFolder:
    """The folder an item type lives in, in one mailbox."""

    def __init__(self, conn: Connection, mapping: EwsMapping, retry: RetryPolicy) -> None:
        self.conn = conn
        self.mapping = mapping
        self.retry = retry
        self._folder: Any = None

    @property
    def account(self) -> Any:
        """The exchangelib account."""
        return self.conn.account

    @property
    def folder(self) -> Any:
        """The exchangelib folder (looked up once per connection).

        exchangelib's ``Account.root``/``Account.contacts``... are ``threaded_cached_property``, whose
        lock belongs to the class: one user's folder lookups would block every other thread's. So the
        lookups call the properties' functions directly and store the results where the cached
        properties keep them (the account's ``__dict__``), with no shared lock.
        """
        if self._folder is None:
            cache: dict[str, Any] = self.conn.__dict__.setdefault("folders", {})
            if self.mapping.folder not in cache:
                cache[self.mapping.folder] = self.retry.call(self.conn, self._lookup)
            self._folder = cache[self.mapping.folder]
        return self._folder

    def _lookup(self) -> Any:
        account = self.account
        for name in ("root", self.mapping.folder):
            if name not in account.__dict__:
                prop = type(account).__dict__[name]
                account.__dict__[name] = (
                    prop.func(account) if hasattr(prop, "func") else getattr(account, name)
                )
        return account.__dict__[self.mapping.folder]

    def _additional_fields(self) -> set[FieldPath]:
        folder = self.folder
        return {
            f for f in folder.normalize_fields(fields=list(self.mapping.fields)) if not f.field.is_attribute
        }

    def pages(
        self, sync_state: str | None, page_size: int = PAGE, *, ids_only: bool = False
    ) -> Iterator[Page]:
        """Changes since ``sync_state`` (``None``: everything), one page per request.

        :param ids_only: Ask for item ids and change keys only (no mapped fields): for reading back the
            echoes of our own writes, which :meth:`fetch` completes where they are not ours.
        :raises exchangelib.errors.ErrorInvalidSyncStateData: the stored state is no longer valid.
        """
        folder = self.folder
        fields: set[FieldPath] = set() if ids_only else self._additional_fields()
        state = sync_state
        while True:
            svc = SyncFolderItems(account=self.account)

            def fetch(current: str | None = state, service: Any = svc) -> list[Any]:
                return list(
                    service.call(
                        folder=folder,
                        shape=ID_ONLY,
                        additional_fields=fields,
                        sync_state=current,
                        ignore=None,
                        max_changes_returned=page_size,
                        sync_scope=None,
                    )
                )

            raw = self.retry.call(self.conn, fetch, passthrough=(ex.ErrorInvalidSyncStateData,))
            changes = [c for c in (self._change(kind, obj) for kind, obj in raw) if c is not None]
            # a folder holds other kinds too (distribution lists among contacts): each item type sees its own
            changes = [c for c in changes if c.item is None or isinstance(c.item, self.mapping.item_class)]
            new_state = str(svc.sync_state)
            last = bool(svc.includes_last_item_in_range) or new_state == state
            yield Page(changes, new_state, last)
            if last:
                return
            state = new_state

    @staticmethod
    def _change(kind: str, obj: Any) -> Change | None:
        if kind == "delete":
            return Change("delete", obj.id, getattr(obj, "changekey", None), None)
        if kind in ("create", "update"):
            return Change(kind, obj.id, obj.changekey, obj)
        return None  # read-flag changes mean nothing to the item types we sync

    def find_by_erp_ids(self, erp_ids: Sequence[str]) -> dict[str, Any]:
        """Items stamped with one of ``erp_ids`` (with the mapped fields), by ERP id."""
        found: dict[str, Any] = {}
        for start in range(0, len(erp_ids), CHUNK):
            chunk = list(erp_ids[start : start + CHUNK])
            items = self.retry.call(self.conn, partial(self._find, chunk))
            for item in items:
                if item.erp_id:
                    found[item.erp_id] = item
        return found

    def fetch(self, changes: Sequence[Change]) -> list[Change]:
        """The same changes with their items' mapped fields (GetItem in chunks of 100); gone items are left out."""
        out: list[Change] = []
        for start in range(0, len(changes), CHUNK):
            chunk = list(changes[start : start + CHUNK])
            items = self.retry.call(
                self.conn, partial(self._get, [ItemId(id=c.ex_id, changekey=c.change_key) for c in chunk])
            )
            for change, item in zip(chunk, items, strict=True):
                if isinstance(item, ex.ErrorItemNotFound):
                    continue
                if isinstance(item, Exception):
                    raise item
                out.append(Change(change.kind, item.id, item.changekey, item))
        return out

    def _get(self, ids: list[ItemId]) -> list[Any]:
        return list(self.account.fetch(ids=ids, only_fields=list(self.mapping.fields)))

    def _find(self, erp_ids: list[str]) -> list[Any]:
        return list(self.folder.filter(erp_id__in=erp_ids).only(*self.mapping.fields))

    def foreign_item(self, installation_id: str) -> Any | None:
        """An item written by another installation of the connector, if there is one."""
        items = self.retry.call(
            self.conn,
            lambda: list(
                self.folder.filter(erp_installation__exists=True)
                .exclude(erp_installation=installation_id)
                .only("erp_installation")[:1]
            ),
        )
        return items[0] if items else None

    def create(self, values: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Create items; one result per input: an object with ``id``/``changekey``, or an exception."""
        cls = self.mapping.item_class
        items = [cls(account=self.account, folder=self.folder, **v) for v in values]
        results: list[Any] = []
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            results.extend(self.retry.call(self.conn, partial(self._bulk_create, chunk), idempotent=False))
        return results

    def update(self, updates: Sequence[tuple[str, str | None, Mapping[str, Any]]]) -> list[Any]:
        """Update items ``(ex_id, change_key, values)``; one result per input: ``(id, changekey)`` or an exception.

        A stale change key gives ``ErrorIrresolvableConflict`` for that item (never overwritten).
        """
        cls = self.mapping.item_class
        pairs = [
            (cls(account=self.account, folder=self.folder, id=ex_id, changekey=ck, **values), list(values))
            for ex_id, ck, values in updates
        ]
        results: list[Any] = []
        for start in range(0, len(pairs), CHUNK):
            chunk = pairs[start : start + CHUNK]
            results.extend(self.retry.call(self.conn, partial(self._bulk_update, chunk)))
        return results

    def delete(self, ex_ids: Sequence[str]) -> list[Any]:
        """Move items to Deleted Items; one result per input: ``True`` or an exception."""
        results: list[Any] = []
        for start in range(0, len(ex_ids), CHUNK):
            chunk = list(ex_ids[start : start + CHUNK])
            results.extend(self.retry.call(self.conn, partial(self._bulk_delete, chunk)))
        return results

    def _bulk_create(self, items: list[Any]) -> list[Any]:
        return list(
            self.account.bulk_create(
                folder=self.folder,
                items=items,
                message_disposition=SAVE_ONLY,
                send_meeting_invitations=SEND_TO_NONE,
            )
        )

    def _bulk_update(self, pairs: list[tuple[Any, list[str]]]) -> list[Any]:
        return list(
            self.account.bulk_update(
                items=pairs,
                conflict_resolution=NEVER_OVERWRITE,
                message_disposition=SAVE_ONLY,
                send_meeting_invitations_or_cancellations=SEND_TO_NONE,
                suppress_read_receipts=True,
            )
        )

    def _bulk_delete(self, ex_ids: list[str]) -> list[Any]:
        return list(
            self.account.bulk_delete(
                ids=[(i, None) for i in ex_ids],
                delete_type=MOVE_TO_DELETED_ITEMS,
                send_meeting_cancellations=SEND_TO_NONE,
                affected_task_occurrences=ALL_OCCURRENCES,
                suppress_read_receipts=True,
            )
        )
