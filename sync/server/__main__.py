"""``python -m sync.server``: run the server, or administer users, tokens and the database.

python -m sync.server [--host H] [--port P] [--database-url URL] [--workers N] [--forwarded-allow-ips IPS]
python -m sync.server migrate                                    (once, before starting servers)
python -m sync.server add-user NAME [--team T] [--manager]     (password on standard input)
python -m sync.server revoke NAME                                (a lost laptop)
python -m sync.server new-epoch                                  (after restoring a backup)
python -m sync.server move-account ACCOUNT_ID TEAM
python -m sync.server purge-tombstones --older-than-days N
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sync.server import admin, auth, ops
from sync.server.db import PENDING, ServerDB, default_url, new_epoch


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def _migrate(args: argparse.Namespace) -> int:
    db = ServerDB(args.database_url)
    try:
        before = db.schema_status()
        db.migrate()
    finally:
        db.close()
    print("the database was already up to date" if before != PENDING else "migrated the database")
    return 0


def _admin(args: argparse.Namespace) -> int:
    db = ServerDB(args.database_url)
    try:
        db.migrate()
        with db.write() as conn:
            if args.command == "add-user":
                password = _read_password(f"Password for {args.name}: ")
                if not password:
                    print("sync.server: an empty password is not allowed", file=sys.stderr)
                    return 2
                auth.add_user(conn, args.name, password, team=args.team, manager=args.manager)
                print(f"added {args.name}" + (f" to team {args.team}" if args.team else ""))
            elif args.command == "revoke":
                print(f"revoked {auth.revoke_user(conn, args.name)} token(s) of {args.name}")
            elif args.command == "set-team":
                auth.set_team(conn, args.name, args.team)
                print(f"{args.name} is now in team {args.team}")
            elif args.command == "new-epoch":
                print(f"new epoch {new_epoch(conn)}: laptops will re-bootstrap")
            elif args.command == "move-account":
                auth.ensure_team(conn, args.team)
                n = admin.move_account(conn, args.account_id, auth.team_scope(args.team))
                print(f"moved {n} row(s) to team {args.team}")
            elif args.command == "purge-tombstones":
                n = admin.purge_tombstones(conn, timedelta(days=args.older_than_days))
                print(f"purged {n} tombstone(s)")
    except (auth.AuthError, ops.OpError) as exc:
        print(f"sync.server: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sync.server.app import DEFAULT_MAX_BODY, create_app

    # Never migrates: with several processes (and hosts) starting at once, the one-shot
    # ``migrate`` command runs them, once. A database that needs it is refused here, in words.
    db = ServerDB(args.database_url)
    try:
        status = db.schema_status()
    finally:
        db.close()
    if status == PENDING:
        print(
            "sync.server: the database's schema is older than this server: "
            "run `python -m sync.server migrate` first (once, not on every server)",
            file=sys.stderr,
        )
        return 2
    max_body = args.max_body or DEFAULT_MAX_BODY
    os.environ["RAPPORT_LOG_LEVEL"] = args.log_level  # the access log's, in every worker too
    # The client's address is read only by the login limits. Behind a proxy it is the proxy's,
    # unless the proxy's X-Forwarded-For is trusted; otherwise no proxy-headers layer (it runs on
    # every request).
    common: dict[str, Any] = dict(
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        proxy_headers=bool(args.forwarded_allow_ips),
        # On SIGTERM uvicorn stops accepting, finishes the requests in flight, then exits; a
        # request still running after this many seconds is cut (its transaction rolls back).
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    if args.forwarded_allow_ips:
        common["forwarded_allow_ips"] = args.forwarded_allow_ips
    if args.workers <= 1:
        uvicorn.run(create_app(args.database_url, max_body=max_body), **common)
        return 0
    from sync.server.workers import serve_workers

    serve_workers(args.database_url, max_body, args.workers, **common)
    return 0


def _env(name: str, default: str) -> str:
    return os.environ.get(f"RAPPORT_{name}", default)


def build_parser() -> argparse.ArgumentParser:
    # Every option of the server can come from the environment (docs/operations.md, the sample
    # in deploy/rapport-server.env.sample): a systemd unit or a container sets those.
    parser = argparse.ArgumentParser(prog="python -m sync.server", description=__doc__)
    parser.add_argument("--database-url", default=default_url(), help="SQLAlchemy URL (or DATABASE_URL)")
    # A command takes the option after its name too. Its default is SUPPRESS: a default there
    # would replace the URL given before the command (`--database-url X migrate` migrated the
    # data folder's database instead of X).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", default=argparse.SUPPRESS, help="SQLAlchemy URL (or DATABASE_URL)")
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"), help="(RAPPORT_HOST)")
    parser.add_argument("--port", type=int, default=int(_env("PORT", "8765")), help="(RAPPORT_PORT)")
    parser.add_argument(
        "--max-body",
        type=int,
        default=int(_env("MAX_BODY", "0")),
        help="largest request body in bytes (RAPPORT_MAX_BODY; 0: 8 MiB)",
    )
    parser.add_argument("--log-level", default=_env("LOG_LEVEL", "info"), help="(RAPPORT_LOG_LEVEL)")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(_env("WORKERS", "1")),
        help="server processes sharing the port (RAPPORT_WORKERS)",
    )
    parser.add_argument(
        "--forwarded-allow-ips",
        default=_env("FORWARDED_ALLOW_IPS", ""),
        help="proxies (comma-separated addresses) whose X-Forwarded-For gives the laptop's address "
        "(RAPPORT_FORWARDED_ALLOW_IPS)",
    )
    parser.add_argument(
        "--graceful-timeout",
        type=float,
        default=float(_env("GRACEFUL_TIMEOUT", "30")),
        help="seconds to finish requests in flight on SIGTERM (RAPPORT_GRACEFUL_TIMEOUT)",
    )
    parser.set_defaults(func=_serve, command="serve")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("migrate", parents=[common], help="bring the database's schema up to this release")
    p.set_defaults(func=_migrate)
    p = sub.add_parser("add-user", parents=[common], help="add a user (password on standard input)")
    p.add_argument("name")
    p.add_argument("--team")
    p.add_argument("--manager", action="store_true")
    p.set_defaults(func=_admin)
    p = sub.add_parser("revoke", parents=[common], help="revoke every token of a user")
    p.add_argument("name")
    p.set_defaults(func=_admin)
    p = sub.add_parser("set-team", parents=[common], help="move a user to a team")
    p.add_argument("name")
    p.add_argument("team")
    p.set_defaults(func=_admin)
    p = sub.add_parser("new-epoch", parents=[common], help="run after restoring the database from a backup")
    p.set_defaults(func=_admin)
    p = sub.add_parser("move-account", parents=[common], help="move an account and its rows to another team")
    p.add_argument("account_id")
    p.add_argument("team")
    p.set_defaults(func=_admin)
    p = sub.add_parser("purge-tombstones", parents=[common], help="collect old tombstones")
    p.add_argument("--older-than-days", type=float, required=True)
    p.set_defaults(func=_admin)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
