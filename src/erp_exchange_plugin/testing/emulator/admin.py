"""The admin HTTP API under ``/_emulator/`` on the emulator's port (for tests in other processes and demos).

Routes (JSON in and out unless noted; ids in paths are URL-encoded because they are base64):

* ``GET /_emulator``: connection facts (no secrets).
* ``GET /_emulator/mailboxes``; ``POST /_emulator/mailboxes`` ``{"address", "password"?}``.
* ``POST /_emulator/mailboxes/{address}/messages[?folder=inbox]``: body = a raw RFC 822 message, delivered.
* ``POST /_emulator/mailboxes/{address}/folders`` ``{"parent", "name", "folder_class"?}``: create a subfolder.
  Folders in paths are distinguished names, optionally followed by subfolder names (``contacts%2FERP``).
* ``GET /_emulator/mailboxes/{address}/folders/{folder}/items``: item snapshots.
* ``POST /_emulator/mailboxes/{address}/folders/{folder}/items`` ``{"kind"?, "fields", "extended"?}``:
  create an item as the mailbox owner would.
* ``PATCH /_emulator/mailboxes/{address}/items/{id}`` ``{"fields", "extended"?}``: edit as Outlook would
  (``null`` deletes a property); ``DELETE`` the same path deletes.
* ``POST /_emulator/mailboxes/{address}/folders/{folder}/invalidate-sync-state``.
* ``GET|POST|DELETE /_emulator/faults``: list, add ``{"kind", "operation"?, "mailbox"?, "count"?, "share"?,
  "back_off_ms"?}``, clear.
* ``PUT /_emulator/latency`` ``{"latency_ms", "jitter_ms"?}``.
* ``POST /_emulator/tokens/revoke``; ``POST /_emulator/clock/advance`` ``{"seconds"}``.
* ``GET|DELETE /_emulator/requests``: the request log with per-operation counters; clear it.
* ``POST /_emulator/reset``: back to the initial, empty mailboxes.

Errors come back as JSON ``{"error": ...}`` with 400 or 404.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from .items import ItemError
from .reply import Reply, json_reply

if TYPE_CHECKING:
    from .server import Emulator


class AdminApi:
    """Routes admin requests to the :class:`~.server.Emulator`'s in-process API."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle(self, method: str, path: str, body: bytes) -> Reply:
        """Answer one admin request."""
        url = urlsplit(path)
        parts = [unquote(p) for p in url.path.split("/") if p][1:]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            return self._route(method, parts, query, body)
        except (KeyError, ValueError, TypeError, ItemError) as exc:
            not_found = isinstance(exc, KeyError) or (
                isinstance(exc, ItemError) and exc.code == "ErrorItemNotFound"
            )
            status = 404 if not_found else 400
            return json_reply(status, {"error": f"{type(exc).__name__}: {exc}"})

    def _json(self, body: bytes) -> dict[str, Any]:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data

    def _route(self, method: str, parts: list[str], query: dict[str, str], body: bytes) -> Reply:
        emu = self.emulator
        match method, parts:
            case "GET", []:
                return json_reply(200, emu.admin_json())
            case "GET", ["mailboxes"]:
                return json_reply(200, emu.mailboxes)
            case "POST", ["mailboxes"]:
                data = self._json(body)
                emu.add_mailbox(data["address"], data.get("password"))
                return json_reply(201, {"address": data["address"].lower()})
            case "POST", ["mailboxes", address, "messages"]:
                item_id = emu.deliver(address, body, query.get("folder", "inbox"))
                return json_reply(201, {"item_id": item_id})
            case "POST", ["mailboxes", address, "folders"]:
                data = self._json(body)
                folder_id = emu.add_folder(
                    address, data["parent"], data["name"], data.get("folder_class", "IPF.Note")
                )
                return json_reply(201, {"folder_id": folder_id})
            case "GET", ["mailboxes", address, "folders", folder, "items"]:
                return json_reply(200, [asdict(v) for v in emu.items(address, folder)])
            case "POST", ["mailboxes", address, "folders", folder, "items"]:
                data = self._json(body)
                item_id = emu.create_item(
                    address,
                    folder,
                    data.get("fields", {}),
                    kind=data.get("kind"),
                    extended=data.get("extended"),
                )
                return json_reply(201, {"item_id": item_id})
            case "PATCH", ["mailboxes", address, "items", item_id]:
                data = self._json(body)
                key = emu.update_item(address, item_id, data.get("fields", {}), extended=data.get("extended"))
                return json_reply(200, {"item_id": item_id, "change_key": key})
            case "DELETE", ["mailboxes", address, "items", item_id]:
                emu.delete_item(address, item_id)
                return Reply(204)
            case "POST", ["mailboxes", address, "folders", folder, "invalidate-sync-state"]:
                emu.invalidate_sync_state(address, folder)
                return Reply(204)
            case "GET", ["faults"]:
                return json_reply(200, [r.as_dict() for r in emu.faults.rules])
            case "POST", ["faults"]:
                data = self._json(body)
                rule = emu.inject(data.pop("kind"), **data)
                return json_reply(201, rule.as_dict())
            case "DELETE", ["faults"]:
                emu.faults.clear()
                return Reply(204)
            case "PUT", ["latency"]:
                data = self._json(body)
                emu.set_latency(float(data["latency_ms"]), float(data.get("jitter_ms", 0)))
                return Reply(204)
            case "POST", ["tokens", "revoke"]:
                emu.revoke_tokens()
                return Reply(204)
            case "POST", ["clock", "advance"]:
                emu.clock.advance(float(self._json(body)["seconds"]))
                return Reply(204)
            case "GET", ["requests"]:
                return json_reply(200, emu.request_log.as_json())
            case "DELETE", ["requests"]:
                emu.request_log.clear()
                return Reply(204)
            case "POST", ["reset"]:
                emu.reset()
                return Reply(204)
        return json_reply(404, {"error": f"no admin route {method} /{'/'.join(parts)}"})
