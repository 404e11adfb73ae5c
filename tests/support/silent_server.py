"""A server that takes connections on loopback and never answers (a hung proxy, a captive
portal, a server stuck on its database), and a port where nothing listens."""

from __future__ import annotations

import socket
import threading


class SilentServer:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port: int = self.listener.getsockname()[1]
        self.accepted = threading.Event()  # set once a client is connected and waiting
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="silent-server")

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self._held.append(conn)  # read nothing, answer nothing, keep it open
            self.accepted.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
        self.listener.close()

    def __enter__(self) -> SilentServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def refused_port() -> int:
    """A port where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
