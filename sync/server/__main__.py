"""``python -m sync.server``: run the server, or administer users, tokens and the database.

python -m sync.server [--host H] [--port P] [--database-url URL] [--workers N] [--forwarded-allow-ips IPS]
python -m sync.server add-user NAME [--team T] [--manager]     (password on standard input)
python -m sync.server revoke NAME                                (a lost laptop)
python -m sync.server new-epoch                                  (after restoring a backup)
python -m sync.server move-account ACCOUNT_ID TEAM
python -m sync.server purge-tombstones --older-than-days N
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sync.server import admin, auth, ops
from sync.server.db import ServerDB, default_url, new_epoch


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


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

    max_body = args.max_body or DEFAULT_MAX_BODY
    # The client's address is read only by the login limits. Behind a proxy it is the proxy's,
    # unless the proxy's X-Forwarded-For is trusted; otherwise no proxy-headers layer (it runs on
    # every request).
    common: dict[str, Any] = dict(
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        proxy_headers=bool(args.forwarded_allow_ips),
    )
    if args.forwarded_allow_ips:
        common["forwarded_allow_ips"] = args.forwarded_allow_ips
    if args.workers <= 1:
        uvicorn.run(create_app(args.database_url, max_body=max_body), **common)
        return 0
    from sync.server.workers import serve_workers

    serve_workers(args.database_url, max_body, args.workers, **common)
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", default=default_url(), help="SQLAlchemy URL (or DATABASE_URL)")
    parser = argparse.ArgumentParser(prog="python -m sync.server", parents=[common], description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--max-body", type=int, default=0, help="largest request body in bytes")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--workers", type=int, default=1, help="server processes sharing the port")
    parser.add_argument(
        "--forwarded-allow-ips",
        default="",
        help="proxies (comma-separated addresses) whose X-Forwarded-For gives the laptop's address",
    )
    parser.set_defaults(func=_serve, command="serve")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
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
