"""JSON over HTTP to the sync server: headers, gzip, retries, timeouts, Cancel, refusals.

Every request the client makes is safe to repeat (pushes are exactly-once on the server, a pull
or a snapshot resumes from what was kept), so a transient failure is simply retried. The httpx
transport is passed in: tests give a fault-injecting one (``tests/sync_support.py``).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from models.errors import Cancelled
from models.migrate import head_revision
from sync.errors import AuthRejected, ServerUnreachable, VersionMismatch
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER, SCHEMA_HEADER

GZIP_OVER = 1024
TRANSIENT = (502, 503, 504)
# A server that takes the connection and then says nothing must not hold "Syncing…" for
# minutes: give up on one request after this long (a timeout is not retried: the next sync is).
TIMEOUT = httpx.Timeout(20.0, connect=5.0)


def _headers(token: str | None) -> dict[str, str]:
    headers = {PROTOCOL_HEADER: str(PROTOCOL), SCHEMA_HEADER: head_revision()}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def error_detail(resp: httpx.Response) -> tuple[str, str]:
    """The server's ``detail`` (words) and ``reason`` (a code the client acts on) of an answer."""
    try:
        body = resp.json()
        return str(body.get("detail", resp.text)), str(body.get("reason", ""))
    except (ValueError, AttributeError):
        return resp.text[:200], ""


def _refuse(resp: httpx.Response) -> None:
    """Raise the errors no retry can fix: login, protocol versions."""
    if resp.status_code == 401:
        raise AuthRejected(
            "The server did not accept your login (wrong password, or the token was revoked "
            "or expired). Log in again with `rapport login`."
        )
    if resp.status_code == 426:
        raise VersionMismatch(
            "This version of Rapport is too old for the server. Please update Rapport; "
            "your unsynced changes are kept."
        )
    if resp.status_code == 400 and error_detail(resp)[1] == "server_too_old":
        raise VersionMismatch(
            "The sync server is older than this version of Rapport: ask for it to be updated."
        )


def _seconds(exc: httpx.TimeoutException) -> str:
    timeouts = exc.request.extensions.get("timeout", {}) if exc.request is not None else {}
    key = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
    limit = timeouts.get(key)
    if not isinstance(limit, int | float):
        return "the time allowed"
    return f"{limit:g} second" + ("" if limit == 1 else "s")


class Http:
    """JSON over an httpx client with retries for transient failures (safe: see module doc)."""

    def __init__(
        self,
        server: str,
        token: str | None,
        transport: httpx.BaseTransport | None = None,
        *,
        timeout: httpx.Timeout = TIMEOUT,
        retries: int = 6,
        backoff: float = 0.2,
        cancel: threading.Event | None = None,
    ) -> None:
        self.client = httpx.Client(
            base_url=server.rstrip("/"), transport=transport, timeout=timeout, headers=_headers(token)
        )
        self.server = server
        self.retries = retries
        self.backoff = backoff
        self.cancel = cancel
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        if cancel is not None:
            # Cancel must not wait for a silent server: shutting the socket down wakes the read
            # at once (the request then fails and the caller sees Cancelled).
            threading.Thread(target=self._watch_cancel, name="rapport-sync-cancel", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self.client.close()

    def check_cancel(self) -> None:
        """Raise ``Cancelled`` once the rep has pressed Cancel (between two steps of a sync)."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def _watch_cancel(self) -> None:
        assert self.cancel is not None
        while not self._closed.is_set():
            if self.cancel.wait(0.1):
                for sock in list(self._sockets):
                    with contextlib.suppress(OSError):  # already closed: nothing waits on it
                        sock.shutdown(socket.SHUT_RDWR)
                return

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore reports each new connection; keep its socket so Cancel can cut it."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            sock = info["return_value"].get_extra_info("socket")
            if isinstance(sock, socket.socket):
                self._sockets.append(sock)

    def post(self, path: str, payload: dict[str, Any], ok: tuple[int, ...] = (200,)) -> httpx.Response:
        raw = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if len(raw) > GZIP_OVER:
            raw = gzip.compress(raw, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        return self._send("POST", path, raw, headers, ok)

    def get(self, path: str) -> httpx.Response:
        return self._send("GET", path, None, {}, (200,))

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], ok: tuple[int, ...]
    ) -> httpx.Response:
        last: str = ""
        for attempt in range(self.retries + 1):
            self.check_cancel()
            if attempt:
                delay = min(self.backoff * attempt, 2.0)
                if self.cancel is None:
                    time.sleep(delay)
                elif self.cancel.wait(delay):  # Cancel during the pause: no need to sit it out
                    raise Cancelled()
            try:
                resp = self.client.request(
                    method, API + path, content=body, headers=headers, extensions={"trace": self._trace}
                )
            except httpx.TimeoutException as exc:
                raise self.unreachable(f"no answer within {_seconds(exc)}") from exc
            except httpx.TransportError as exc:
                if self.cancel is not None and self.cancel.is_set():
                    raise Cancelled() from exc
                last = f"{type(exc).__name__}: {exc}"
                continue
            if resp.status_code in TRANSIENT:
                last = f"HTTP {resp.status_code}"
                continue
            _refuse(resp)
            return resp
        raise self.unreachable(last)

    def unreachable(self, why: str) -> ServerUnreachable:
        return ServerUnreachable(
            f"Cannot reach the sync server at {self.server} ({why}). Your changes are kept and "
            "will sync next time."
        )

    @contextmanager
    def stream(self, path: str, payload: dict[str, Any]) -> Iterator[httpx.Response]:
        """POST and hand over the response unread (a snapshot is too big to hold in memory).

        No retries here: a stream cut half-way is resumed by the caller from what it kept.
        A transient refusal raises ``httpx.TransportError`` like a cut connection.
        """
        self.check_cancel()
        raw = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        with self.client.stream(
            "POST", API + path, content=raw, headers=headers, extensions={"trace": self._trace}
        ) as resp:
            if resp.status_code != 200:
                resp.read()
            if resp.status_code in TRANSIENT:
                raise httpx.TransportError(f"HTTP {resp.status_code}")
            _refuse(resp)
            yield resp
