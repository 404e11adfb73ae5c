"""ASGI middleware: request size limit (413), gzip request bodies, protocol version check (426)."""

from __future__ import annotations

import json
import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.protocol import API, MIN_PROTOCOL, PROTOCOL, PROTOCOL_HEADER


async def _reply(send: Send, status: int, detail: str, reason: str) -> None:
    body = json.dumps({"detail": detail, "reason": reason}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Reads the whole body (bounded), inflates gzip (bounded too: no zip bombs), checks versions.

    Everything under the API prefix must name a protocol version the server still speaks; an
    older client gets 426 and keeps its outbox.
    """

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["path"].startswith(API + "/"):
            raw = headers.get(PROTOCOL_HEADER.lower(), "")
            try:
                version = int(raw)
            except ValueError:
                version = -1
            if version < MIN_PROTOCOL:
                await _reply(
                    send,
                    426,
                    "This version of Rapport is too old for the server: please update.",
                    "upgrade_required",
                )
                return
            if version > PROTOCOL:
                await _reply(
                    send,
                    400,
                    "The server is older than this app: ask for the server to be updated.",
                    "server_too_old",
                )
                return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _reply(send, 413, "request body too large", "too_large")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _reply(send, 413, "request body too large", "too_large")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if headers.get("content-encoding", "").lower() == "gzip":
            try:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                body = inflater.decompress(body, self.max_body + 1)
                if len(body) > self.max_body or inflater.unconsumed_tail:
                    await _reply(send, 413, "request body too large once decompressed", "too_large")
                    return
            except zlib.error:
                await _reply(send, 400, "the body is not valid gzip", "bad_gzip")
                return
            scope = dict(scope)
            scope["headers"] = [
                (k, v)
                for k, v in scope["headers"]
                if k.lower() not in (b"content-encoding", b"content-length")
            ] + [(b"content-length", str(len(body)).encode())]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
