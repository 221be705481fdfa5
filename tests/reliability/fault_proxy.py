"""A TCP proxy in front of a mail server that misbehaves on request: the mail half of the fault matrix.

Modes: ``pass`` (forward), ``drop_mid`` (close both sides once ``drop_after`` bytes came from the
server: a connection lost in the middle of a fetch), ``stall`` (accept, never answer: a server slower
than the client's timeout), ``garbage`` (answer with bytes that are no protocol at all).
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class FaultProxy:
    """Listens on a free loopback port and forwards to ``upstream``, unless a fault mode is set."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = "pass"
        self.drop_after = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            threading.Thread(target=self._serve, args=(client, self.mode), daemon=True).start()

    def _serve(self, client: socket.socket, mode: str) -> None:
        if mode == "garbage":
            with suppress(OSError):
                client.sendall(b"\x00\xff\xfe HTTP/1.1 418 I am no mail server\r\n\r\n<<<>>>\r\n")
            client.close()
            return
        if mode == "stall":
            with suppress(OSError):
                while client.recv(4096):  # until the client gives up and closes
                    pass
            client.close()
            return
        upstream = socket.create_connection(self.upstream)
        self._sockets.append(upstream)
        limit = self.drop_after if mode == "drop_mid" else None

        def pump(src: socket.socket, dst: socket.socket, counted: bool) -> None:
            passed = 0
            with suppress(OSError):
                while data := src.recv(4096):
                    if counted and limit is not None and passed + len(data) > limit:
                        dst.sendall(data[: limit - passed])
                        break
                    dst.sendall(data)
                    passed += len(data)
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

        threading.Thread(target=pump, args=(client, upstream, False), daemon=True).start()
        pump(upstream, client, True)

    def close(self) -> None:
        """Stop listening and close every connection."""
        self._closed.set()
        self._listener.close()
        for s in self._sockets:
            with suppress(OSError):
                s.close()
