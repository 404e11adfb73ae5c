"""Running the busy requests' statements (``statements``) on the database driver's own connection.

A push or a pull is a dozen small statements. Through SQLAlchemy Core each one cost 60-80 us of
Python (cache key, parameter processing, result wrapping) against 10-20 us in ``sqlite3``: most
of a sync's server time (cProfile of a push and a pull: 3 ms a sync, 9% of it in the
driver). The statements here run on the same DBAPI connection, inside the transaction the
SQLAlchemy ``Connection`` began, so locking (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on
PostgreSQL) and commit work exactly as before. Each statement is written once, with ``:name``
parameters (``Sql``), and rendered for both drivers.

The admin paths (users, moves, purges) and the streamed snapshot stay on SQLAlchemy Core: they
are rare, or one statement for many rows.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

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
    """The request's driver connection, inside the SQLAlchemy transaction of ``conn``.

    Driver errors come out as SQLAlchemy's (``DataError``, ``OperationalError``...), as they
    would through Core, so the routes' error handlers answer them the same way; a lost
    connection is invalidated, so the pool does not hand it out again.
    """

    __slots__ = ("conn", "cursor", "driver", "pg")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.driver: Any = conn.connection.driver_connection
        self.cursor: Any = self.driver.cursor()  # type: ignore[union-attr]

    def _text(self, sql: Sql) -> str:
        return sql.pg if self.pg else sql.sqlite

    @contextlib.contextmanager
    def translated(self, statement: str = "") -> Iterator[None]:
        dialect = self.conn.dialect
        try:
            yield
        except dialect.loaded_dbapi.Error as exc:
            lost = dialect.is_disconnect(exc, self.conn.connection.dbapi_connection, None)
            if lost:
                # The database restarted, most likely: the pooled connections are as dead as this
                # one, so drop them all, as SQLAlchemy does for the statements it runs itself.
                self.conn.invalidate(exc)
                self.conn.engine.pool.dispose()
            raise DBAPIError.instance(
                statement, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost
            ) from exc

    def _execute(self, sql: Sql, params: Mapping[str, Any] | None) -> Any:
        text = self._text(sql)
        with self.translated(text):
            self.cursor.execute(text, params or {})
        return self.cursor

    def rows(self, sql: Sql, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self._execute(sql, params)
        with self.translated():
            return [tuple(row) for row in cursor.fetchall()]

    def first(self, sql: Sql, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        cursor = self._execute(sql, params)
        with self.translated():
            row = cursor.fetchone()
        return tuple(row) if row is not None else None

    def run(self, sql: Sql, params: Mapping[str, Any]) -> None:
        self._execute(sql, params)

    def many(self, sql: Sql, params: Sequence[Mapping[str, Any]]) -> None:
        if params:
            text = self._text(sql)
            with self.translated(text):
                self.cursor.executemany(text, params)

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
