"""The busy requests' statements, run on the database driver's own connection.

A push or a pull is a dozen small statements. Through SQLAlchemy Core each one cost 60-80 us of
Python (cache key, parameter processing, result wrapping) against 10-20 us in ``sqlite3``: most
of a sync's server time (cProfile of ``ops.push``/``ops.pull``: 3 ms a sync, 9% of it in the
driver). The statements here run on the same DBAPI connection, inside the transaction the
SQLAlchemy ``Connection`` began, so locking (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on
PostgreSQL) and commit work exactly as before. Each statement is written once, with ``:name``
parameters, and rendered for both drivers.

The admin paths (users, moves, purges) and the streamed snapshot stay on SQLAlchemy Core: they
are rare, or one statement for many rows.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import Connection

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


class Sql:
    """One statement for both drivers: ``sqlite3`` takes ``:name``, psycopg ``%(name)s``.

    ``{for_update}`` becomes ``FOR UPDATE`` on PostgreSQL and nothing on SQLite, where the
    writer already holds the database's one write lock (``BEGIN IMMEDIATE``).
    """

    __slots__ = ("pg", "sqlite")

    def __init__(self, text: str) -> None:
        self.sqlite = text.replace("{for_update}", "")
        self.pg = _NAMED.sub(r"%(\1)s", text.replace("{for_update}", "FOR UPDATE"))

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def of(text: str) -> Sql:
        """The same, cached by text: for statements assembled per request (``in_list``)."""
        return Sql(text)


class Raw:
    """The request's driver connection, inside the SQLAlchemy transaction of ``conn``."""

    __slots__ = ("cursor", "pg")

    def __init__(self, conn: Connection) -> None:
        self.pg = conn.dialect.name == "postgresql"
        self.cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def _text(self, sql: Sql) -> str:
        return sql.pg if self.pg else sql.sqlite

    def rows(self, sql: Sql, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        self.cursor.execute(self._text(sql), params or {})
        return list(self.cursor.fetchall())

    def first(self, sql: Sql, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        self.cursor.execute(self._text(sql), params or {})
        row = self.cursor.fetchone()
        return tuple(row) if row is not None else None

    def run(self, sql: Sql, params: Mapping[str, Any]) -> int:
        self.cursor.execute(self._text(sql), params)
        return int(self.cursor.rowcount or 0)

    def many(self, sql: Sql, params: Sequence[Mapping[str, Any]]) -> None:
        if params:
            self.cursor.executemany(self._text(sql), params)

    def in_list(self, name: str, values: Iterable[Any], params: dict[str, Any]) -> str:
        """What follows a column for "is one of ``values``": one array parameter on PostgreSQL,
        one parameter per value on SQLite. Fills ``params``; build the statement with ``Sql.of``."""
        values = list(values)
        if self.pg:
            params[name] = values
            return f"= ANY(:{name})"
        names = [f"{name}{i}" for i in range(len(values))]
        params.update(zip(names, values, strict=True))
        return "IN (" + ", ".join(f":{n}" for n in names) + ")"

    def json_in(self, value: Any) -> Any:
        """A parameter for a JSON column, written as SQLAlchemy's ``JSON`` type writes it
        (``json.dumps``; Python ``None`` as JSON ``null``), so both paths read each other's rows."""
        return Json(value) if self.pg else json.dumps(value)


def json_out(text: str | None) -> Any:
    """A JSON column selected as ``CAST(column AS TEXT)``: psycopg would otherwise parse it
    itself (or not, depending on how SQLAlchemy set the connection up); SQLite's stored text is
    unchanged by the cast. One reading for both drivers."""
    return None if text is None else json.loads(text)
