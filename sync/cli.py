"""``rapport login`` and ``rapport sync``: the command-line face of the sync client.

The token lives only in the OS keychain (``sync.keychain``); the database keeps the server address
and user name, which are not secrets.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from models.db import open_database
from models.paths import default_db_path
from sync.client import SyncClient, login
from sync.errors import NotLoggedIn
from sync.keychain import load_token, save_token
from sync.status import link_server
from sync.store import K_SERVER, K_USER, SyncStore


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")


def _cmd_login(args: argparse.Namespace) -> int:
    password = _read_password()
    info = login(args.server, args.username, password)
    db = open_database(args.db)
    store = SyncStore(db)
    try:
        with store.tx() as s:
            link_server(s, args.server, info.username)
    finally:
        store.close()
        db.close()
    if save_token(args.server, info.username, info.token):
        print(f"Logged in to {args.server} as {info.username}; the token is in the system keychain.")
    else:
        print(
            "Logged in, but this system has no keychain (keyring backend), so the token is kept "
            "for this run only and was not saved. Install a keychain to stay logged in."
        )
    return 0


def _cmd_sync(args: argparse.Namespace) -> int:
    db = open_database(args.db)
    try:
        store = SyncStore(db)
        try:
            server = args.server or store.state(K_SERVER)
            username = store.state(K_USER)
        finally:
            store.close()
        if not server or not username:
            raise NotLoggedIn(
                "This database has not been linked to a sync server: run `rapport login` first."
            )
        token = load_token(server, username)
        if token is None:
            raise NotLoggedIn(f"No saved login for {username} on {server}: run `rapport login` first.")

        def progress(phase: str, done: int, total: int | None) -> None:
            if args.verbose:
                print(f"{phase}: {done}/{total if total is not None else '?'}", file=sys.stderr)

        with SyncClient(db, server, token, progress=progress) as client:
            summary = client.sync()
    finally:
        db.close()
    print(f"Synced with {server}: {summary}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="log in to a sync server (password on standard input)")
    p.add_argument("--db", type=Path, default=default_db_path())
    p.add_argument("--server", required=True, help="e.g. https://sync.example.com")
    p.add_argument("--username", required=True)
    p.set_defaults(func=_cmd_login)
    p = sub.add_parser("sync", help="sync this database with the server once")
    p.add_argument("--db", type=Path, default=default_db_path())
    p.add_argument("--server", help="default: the server given at login")
    p.add_argument("--verbose", action="store_true", help="print progress")
    p.set_defaults(func=_cmd_sync)
