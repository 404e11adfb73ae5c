"""ASGI middleware: request size limit (413), gzip request bodies, protocol version check (426),
and the sync routes' fast path."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.protocol import API, MIN_PROTOCOL, PROTOCOL, PROTOCOL_HEADER, SCHEMA_HEADER


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

    def __init__(
        self, app: ASGIApp, max_body: int, schemas: Sequence[str] = (), min_schema: str = ""
    ) -> None:
        """``schemas``: the laptop schema revisions this release knows, oldest first; a laptop
        older than ``min_schema`` is told to update, one newer than all of them that the server
        is older (an empty ``schemas`` checks nothing)."""
        self.app = app
        self.max_body = max_body
        self.rank = {revision: i for i, revision in enumerate(schemas)}
        self.min_rank = self.rank.get(min_schema, 0)

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
            # The laptop's database schema: a request without one (a script, not the app) is
            # judged by its protocol alone.
            schema = headers.get(SCHEMA_HEADER.lower())
            if schema is not None and self.rank:
                rank = self.rank.get(schema)
                if rank is None:
                    await _reply(
                        send,
                        400,
                        "The server is older than this app: ask for the server to be updated. "
                        "Your changes are kept on this laptop.",
                        "server_too_old",
                    )
                    return
                if rank < self.min_rank:
                    await _reply(
                        send,
                        426,
                        "This version of Rapport is too old for the server: please update the app. "
                        "Your changes are kept on this laptop and sync after the update.",
                        "schema_too_old",
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
        await self.app(scope, _replay(body, receive), send)


# zlib's default: the ratio of 9 on JSON at about half the CPU (a 2,000-row page is ~0.5 MB).
GZIP_LEVEL = 6
# A route of ``FastRoutes``: the parsed request body and the bearer token in, the JSON body out.
FastHandler = Callable[[Any, str], Awaitable[bytes]]
# An exception the app answers as a client or transient error: (status, JSON body, headers),
# or None for a bug (re-raised: the server's error middleware logs it and answers 500).
ErrorMapper = Callable[[Exception], tuple[int, dict[str, Any], dict[str, str]] | None]


class FastRoutes:
    """The two routes every sync calls, push and pull, without the framework's per-request work.

    With 50 laptops syncing at once the server's CPU is the limit, and FastAPI's way through a
    request (a dozen middleware layers, routing, dependency solving, a JSON parse then a
    separate pydantic validation, a second trip through the gzip middleware) cost about as much
    as the sync itself. Here a well-formed request goes straight to its handler: the body is
    validated in one step by pydantic from the JSON bytes (``model_validate_json``) and the
    answer is compressed here when big and accepted, as ``GZipMiddleware`` would.

    Anything unusual is handed to the FastAPI app unchanged (the body replayed), so every error
    the API documents keeps the exact shape FastAPI gives it: a body that does not validate, a
    missing or malformed ``Authorization`` header, another content type. The routes stay
    declared in FastAPI too, for ``/openapi.json`` and for those cases.
    """

    def __init__(
        self,
        app: ASGIApp,
        routes: dict[str, tuple[type[BaseModel], FastHandler]],
        errors: ErrorMapper,
        gzip_above: int = 1024,
    ) -> None:
        self.app = app
        self.routes = routes
        self.errors = errors
        self.gzip_above = gzip_above

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        chunks: list[bytes] = []
        more = True
        while more:  # BodyLimitMiddleware, outside this one, replays the whole body at once
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        model, handler = route
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        request: Any = None
        if scheme.lower() == "bearer" and token and content_type == b"application/json":
            try:
                request = model.model_validate_json(body)
            except ValidationError:
                request = None
        if request is None:
            await self.app(scope, _replay(body, receive), send)
            return
        response_headers: dict[str, str] = {"content-type": "application/json"}
        try:
            status, payload = 200, await handler(request, token)
        except Exception as exc:
            mapped = self.errors(exc)
            if mapped is None:
                raise
            status, content, extra = mapped
            payload = json.dumps(content).encode()
            response_headers.update(extra)
        if len(payload) >= self.gzip_above and b"gzip" in headers.get(b"accept-encoding", b"").lower():
            payload = gzip.compress(payload, compresslevel=GZIP_LEVEL)
            response_headers["content-encoding"] = "gzip"
            response_headers["vary"] = "Accept-Encoding"
        response_headers["content-length"] = str(len(payload))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response_headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
