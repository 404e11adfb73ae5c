"""Users, teams and tokens.

Tokens are opaque random strings (revocable at once, no signing key to manage); only their
sha256 is stored, so a copy of the server database holds no usable token. Passwords are argon2.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update

from sync.server import tables
from sync.server.db import now_iso
from sync.server.statements import TOKEN_WIDTH

TOKEN_DAYS = 90
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


class AuthError(Exception):
    pass


@dataclass(frozen=True)
class Actor:
    """The user a request acts for, and what they may see (from the user record, invariant 8)."""

    user_id: int
    name: str
    scopes: frozenset[str]  # what this user may read and write
    home_scope: str  # where the rows this user creates belong


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def team_scope(team: str) -> str:
    return f"team:{team}"


def user_scope(name: str) -> str:
    return f"user:{name}"


def ensure_team(conn: Connection, name: str) -> int:
    found = conn.scalar(select(tables.teams.c.id).where(tables.teams.c.name == name))
    if found is not None:
        return int(found)
    key = conn.execute(insert(tables.teams).values(name=name)).inserted_primary_key
    assert key is not None
    return int(key[0])


def add_user(
    conn: Connection,
    name: str,
    password: str,
    *,
    team: str | None,
    manager: bool,
    hasher: PasswordHasher | None = None,
) -> int:
    """Add a user. ``hasher`` lets tests use cheap argon2 parameters (stored in the hash, so the
    server verifies with them); the server and the CLI always use the defaults."""
    if conn.scalar(select(tables.users.c.id).where(tables.users.c.name == name)) is not None:
        raise AuthError(f"user {name!r} already exists")
    if manager and not team:
        raise AuthError("a manager needs a team (--team)")
    team_id = ensure_team(conn, team) if team else None
    result = conn.execute(
        insert(tables.users).values(
            name=name,
            password_hash=(hasher or _hasher).hash(password),
            team_id=team_id,
            manager=manager,
            created_at=now_iso(),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def set_team(conn: Connection, name: str, team: str | None) -> None:
    team_id = ensure_team(conn, team) if team else None
    conn.execute(update(tables.users).where(tables.users.c.name == name).values(team_id=team_id))


def password_hash(conn: Connection, name: str) -> tuple[int | None, str]:
    """(the user's id or None, the hash to check the password against). An unknown name gets a
    dummy hash, so a wrong name costs as long as a wrong password. Read apart from the check:
    argon2 takes tens of milliseconds and 64 MiB, and must not hold a connection meanwhile."""
    row = conn.execute(
        select(tables.users.c.id, tables.users.c.password_hash).where(tables.users.c.name == name)
    ).first()
    return (int(row.id), row.password_hash) if row is not None else (None, _DUMMY_HASH)


def verify_password(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def issue_token(conn: Connection, user_id: int) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=TOKEN_DAYS)
    conn.execute(
        insert(tables.tokens).values(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now_iso(),
            expires_at=expires.isoformat(),
            revoked_at=None,
        )
    )
    return token, expires


def revoke_user(conn: Connection, name: str) -> int:
    """Revoke every token of a user (a lost laptop); returns how many were live."""
    user_id = conn.scalar(select(tables.users.c.id).where(tables.users.c.name == name))
    if user_id is None:
        raise AuthError(f"no user {name!r}")
    result = conn.execute(
        update(tables.tokens)
        .where(tables.tokens.c.user_id == user_id, tables.tokens.c.revoked_at.is_(None))
        .values(revoked_at=now_iso())
    )
    return int(result.rowcount or 0)


def revoke_token(conn: Connection, token: str) -> None:
    conn.execute(
        update(tables.tokens)
        .where(tables.tokens.c.token_hash == token_hash(token))
        .values(revoked_at=now_iso())
    )


def _actor(user_id: int, name: str, manager: bool, team: str | None) -> Actor:
    """Scopes come from the user record, never from the request (invariant 8)."""
    if team:
        scopes = {team_scope(team)}
        if not manager:
            scopes.add(user_scope(name))
        home = team_scope(team)
    else:
        scopes = {user_scope(name)}
        home = user_scope(name)
    return Actor(user_id=user_id, name=name, scopes=frozenset(scopes), home_scope=home)


def actor_from(row: tuple[Any, ...] | None) -> Actor:
    """The user a ``statements.token_query`` row names, or ``AuthError``."""
    if row is None or row[1] is not None:
        raise AuthError("the token is not valid (revoked or unknown): log in again")
    expires_at, _, user_id, name, manager, team = row[:TOKEN_WIDTH]
    if datetime.fromisoformat(expires_at) <= datetime.now(UTC):
        raise AuthError("the token has expired: log in again")
    return _actor(int(user_id), name, bool(manager), team)


def user_info(conn: Connection, user_id: int) -> tuple[str, str | None, bool]:
    row = conn.execute(
        select(tables.users.c.name, tables.users.c.manager, tables.teams.c.name.label("team"))
        .select_from(tables.users.outerjoin(tables.teams))
        .where(tables.users.c.id == user_id)
    ).one()
    return row.name, row.team, bool(row.manager)
