"""The EWS provider: new messages of an Exchange folder (the inbox by default), by SyncFolderItems.

The mailbox is the user's Exchange mailbox, reached with the user's ``exchange`` settings (the
same connection the sync uses). Per run:

1. ``SyncFolderItems`` from the stored sync state (``mail_ews_sync``), pages of up to 512 changes,
   asking only for each new message's id and size;
2. for each new message, in order: the limits, then ``GetItem`` of its MIME content (batches of up to
   100 messages and about 8 MiB, from the sizes SyncFolderItems reported),
   then delivery through :meth:`.delivery.MailRun.hand_over` (key from the content, so a message
   fetched again is never stored twice);
3. server-side actions (mark read, move, move to Deleted Items), only when configured and only for
   messages the host answered for;
4. the page's sync state is stored only after every message of the page was answered for. A run
   that stops in the middle of a page (a limit, a failure) starts that page again next time: the
   messages already delivered are recognised by their content and not handed over twice.

Mailbox settings (``Mailbox.settings``) for ``ews``: ``folder`` (a distinguished folder name,
``inbox`` by default), ``actions`` (``mark_read``, ``move_to`` a distinguished folder name such as
``deleteditems`` or ``junkemail``, ``delete``) and ``limits`` (as for IMAP). An invalid sync state
(``ErrorInvalidSyncStateData``) starts from the beginning without delivering anything twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

from exchangelib import Message
from exchangelib import errors as ex
from exchangelib.items import MOVE_TO_DELETED_ITEMS
from exchangelib.properties import ItemId
from marshmallow import ValidationError

from erp_exchange_plugin.errors import ConfigurationError
from erp_exchange_plugin.ews.account import Connection
from erp_exchange_plugin.ews.retry import RetryPolicy
from erp_exchange_plugin.mail.delivery import FetchContext, MailRun, attach_partial_report
from erp_exchange_plugin.mail.settings import (
    Actions,
    Limits,
    MailboxSettings,
    MailSettingsError,
    _ActionsSchema,
    _flatten,
    _LimitsSchema,
    _StrictSchema,
)
from erp_exchange_plugin.plugin_types import EwsMapping
from erp_exchange_plugin.settings.schema import Text
from erp_exchange_plugin.sync.exchange import ExchangeFolder
from erp_hookspecs import Delivery, HostServices, Mailbox, MailFetchReport

MIME_BATCH: Final = 100
"""At most this many messages per GetItem (EWS's usual chunk) ..."""
MIME_BATCH_BYTES: Final = 8 * 1024 * 1024
"""... and at most about this many bytes of MIME (from the sizes SyncFolderItems reported), so memory stays bounded."""
ACCOUNT_FOLDERS: Final = {
    "inbox": "inbox",
    "junkemail": "junk",
    "sentitems": "sent",
    "drafts": "drafts",
    "deleteditems": "trash",
    "outbox": "outbox",
}
"""Distinguished folders a mailbox may be fetched from or move messages to (EWS name: exchangelib attribute)."""
FOLDERS: Final = tuple(ACCOUNT_FOLDERS)

_NEW_MESSAGES = EwsMapping("inbox", Message, ("size", "datetime_received"), dict, dict)


class _EwsMailboxSchema(_StrictSchema):
    from marshmallow import fields as _mf

    folder = Text(64)
    actions = _mf.Nested(_ActionsSchema, allow_none=True)
    limits = _mf.Nested(_LimitsSchema, allow_none=True)


@dataclass(frozen=True, slots=True)
class EwsMailbox:
    """The validated settings of an ``ews`` mailbox."""

    folder: str
    actions: Actions
    limits: Limits


def load_ews_settings(mailbox_id: str, raw: Mapping[str, Any]) -> EwsMailbox:
    """Validate an ``ews`` mailbox's settings.

    :raises MailSettingsError: naming every bad field.
    """
    if not isinstance(raw, Mapping):
        raise MailSettingsError(mailbox_id, {"(settings)": ["must be an object"]})
    try:
        data: dict[str, Any] = _EwsMailboxSchema().load(raw)
    except ValidationError as exc:
        raise MailSettingsError(mailbox_id, _flatten(exc.messages)) from None
    errors: dict[str, list[str]] = {}
    folder = data.get("folder") or "inbox"
    if folder not in FOLDERS:
        errors["folder"] = [f"must be one of {', '.join(FOLDERS)}"]
    actions_raw = data.get("actions") or {}
    actions = Actions(
        mark_read=bool(actions_raw.get("mark_read")),
        move_to=actions_raw.get("move_to"),
        delete=bool(actions_raw.get("delete")),
    )
    if actions.move_to is not None and actions.move_to not in FOLDERS:
        errors["actions.move_to"] = [f"must be one of {', '.join(FOLDERS)}"]
    if actions.delete and actions.move_to is not None:
        errors["actions"] = ['"delete" and "move_to" exclude each other']
    if errors:
        raise MailSettingsError(mailbox_id, errors)
    limits_raw = data.get("limits") or {}
    limits = Limits(**{k: v for k, v in limits_raw.items() if v is not None})
    return EwsMailbox(folder=folder, actions=actions, limits=limits)


def _batches(changes: list[Any], count: int, budget: int) -> Iterator[list[Any]]:
    """Consecutive batches of at most ``count`` messages and about ``budget`` bytes (one larger message goes alone)."""
    batch: list[Any] = []
    size = 0
    for change in changes:
        item_size = int(getattr(change.item, "size", 0) or 0)
        if batch and (len(batch) >= count or size + item_size > budget):
            yield batch
            batch, size = [], 0
        batch.append(change)
        size += item_size
    if batch:
        yield batch


def fetch_ews(host: HostServices, mailbox: Mailbox, context: FetchContext) -> MailFetchReport:
    """Fetch new mail of an ``ews`` mailbox (the fetcher of the ``ews`` :class:`MailProvider`)."""
    settings = load_ews_settings(mailbox.mailbox_id, mailbox.settings)
    if context.exchange is None:
        raise ConfigurationError(
            f"mailbox {mailbox.mailbox_id!r}: no Exchange connection is available for EWS mail"
        )
    conn: Connection = context.exchange(mailbox)
    policy = RetryPolicy(max_total_wait=120.0)
    mapping = EwsMapping(ACCOUNT_FOLDERS[settings.folder], Message, _NEW_MESSAGES.fields, dict, dict)
    folder = ExchangeFolder(conn, mapping, policy)
    run_settings = MailboxSettings(
        protocol="ews",
        host=conn.settings.ews_url,
        port=443,
        security="tls",
        username=conn.settings.mailbox,
        folders=(settings.folder,),
        actions=settings.actions,
        limits=settings.limits,
    )
    run = MailRun(host, mailbox, run_settings, context)
    checkpoints = context.checkpoints
    page_size = min(512, settings.limits.max_messages_per_run or 512)
    try:
        state = checkpoints.ews_sync_state(mailbox.mailbox_id, settings.folder)
        try:
            _walk(run, folder, conn, policy, settings, state, page_size)
        except ex.ErrorInvalidSyncStateData:
            run.log.warning("EWS sync state invalid; reading the folder again (nothing is delivered twice)")
            _walk(run, folder, conn, policy, settings, None, page_size)
    except BaseException as exc:
        run.flush()
        attach_partial_report(exc, run.report())
        raise
    run.flush()
    return run.report()


def _walk(
    run: MailRun,
    folder: ExchangeFolder,
    conn: Connection,
    policy: RetryPolicy,
    settings: EwsMailbox,
    state: str | None,
    page_size: int,
) -> None:
    mailbox_id = run.mailbox.mailbox_id
    for page in folder.pages(state, page_size):
        new = [c for c in page.changes if c.kind == "create"]
        complete = True
        wanted: list[Any] = []
        for change in new:
            size = int(getattr(change.item, "size", 0) or 0)
            if run.too_large(size, f"message {change.ex_id[-12:]}"):
                continue
            if not run.reserve(size):
                complete = False
                break
            wanted.append(change)
        handled: list[ItemId] = []
        try:
            for batch in _batches(wanted, MIME_BATCH, MIME_BATCH_BYTES):
                _deliver_batch(run, conn, policy, batch, handled)
        finally:
            _actions(
                conn, policy, settings.actions, handled
            )  # what the host answered for, even if a later one failed
        if not complete:
            return
        run.advance(partial(run.checkpoints.put_ews_sync_state, mailbox_id, page.sync_state, settings.folder))
        run.flush()


def _deliver_batch(
    run: MailRun, conn: Connection, policy: RetryPolicy, batch: list[Any], handled: list[ItemId]
) -> None:
    ids = [ItemId(id=c.ex_id, changekey=c.change_key) for c in batch]
    fetched = policy.call(conn, partial(_mime, conn, ids))
    for change, item in zip(batch, fetched, strict=True):
        if isinstance(item, ex.ErrorItemNotFound):
            continue  # deleted meanwhile
        if isinstance(item, Exception):
            raise item
        raw = bytes(item.mime_content or b"")
        received = _plain(change.item.datetime_received)
        answer = run.hand_over(raw, received_at=received, checkpoint=lambda: None)
        if answer in (Delivery.ACCEPTED, Delivery.DUPLICATE):
            handled.append(ItemId(id=item.id, changekey=item.changekey))


def _plain(value: Any) -> datetime | None:
    """exchangelib's EWSDateTime as a plain aware datetime in UTC (hosts need not know exchangelib)."""
    if value is None:
        return None
    return datetime.fromtimestamp(value.timestamp(), UTC)


def _mime(conn: Connection, ids: list[ItemId]) -> list[Any]:
    return list(conn.account.fetch(ids=ids, only_fields=["mime_content"]))


def _actions(conn: Connection, policy: RetryPolicy, actions: Actions, ids: list[ItemId]) -> None:
    if not ids or not actions.any:
        return
    account = conn.account
    if actions.mark_read:
        items = [
            (Message(account=account, id=i.id, changekey=i.changekey, is_read=True), ["is_read"]) for i in ids
        ]
        policy.call(conn, lambda: list(account.bulk_update(items=items)))
    if actions.delete:
        policy.call(conn, lambda: list(account.bulk_delete(ids=ids, delete_type=MOVE_TO_DELETED_ITEMS)))
    elif actions.move_to is not None:
        attribute = ACCOUNT_FOLDERS[actions.move_to]
        target = policy.call(conn, lambda: getattr(account, attribute))
        policy.call(conn, lambda: list(account.bulk_move(ids=ids, to_folder=target)))
