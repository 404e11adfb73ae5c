"""``python -m sync.server --workers N``: several server processes sharing one port.

The server keeps no state outside the database (but for the login limits' counters, per process:
``login_limits``), so uvicorn's worker processes can share the listening socket and use every
core (one Python process is held to one core by the GIL). uvicorn imports ``worker_app`` by
name in each process.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from sync.server.db import default_url

MAX_BODY_ENV = "RAPPORT_MAX_BODY"


def worker_app() -> FastAPI:
    """One worker's app: the parent checked the schema and put the settings in the environment."""
    from sync.server.app import create_app

    return create_app(default_url(), max_body=int(os.environ[MAX_BODY_ENV]))


class TcpConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        # uvicorn opens the shared socket with protocol 0, and asyncio sets TCP_NODELAY only on
        # connections of a socket that says IPPROTO_TCP: without it each response's body waits
        # behind its headers for the client's delayed ACK (Nagle), 40 ms a request.
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp


def serve_workers(url: str, max_body: int, workers: int, **uvicorn_args: Any) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ[MAX_BODY_ENV] = str(max_body)
    config = TcpConfig(f"{__name__}:worker_app", factory=True, workers=workers, **uvicorn_args)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
