"""The server's hand-tuned statements (``sync.server.statements``) agree with its tables.

Parameters are dicts and both drivers ignore keys a statement does not name, so a column left
out of a statement would silently not be written (or read). These tests read each statement's
text as each driver gets it, SQLite and PostgreSQL alike (the PostgreSQL push statement is
checked here even where no PostgreSQL runs), and compare the columns it names with its table's.
The columns a statement leaves out on purpose are listed below, each with its reason: leaving
out another one fails here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Table

from sync.protocol import Mutation, MutationResult
from sync.server import push, statements, tables
from sync.server.db import ServerDB
from sync.server.raw import Raw, Sql
from tests.support.sync_support import Backend

DIALECTS = ("sqlite", "pg")
_TABLE = r'"?{name}"?'


def _names(listed: str) -> list[str]:
    return [part.strip() for part in listed.split(",")]


def _param(dialect: str, text: str) -> str | None:
    """The parameter a value expression is, in this dialect's spelling, or None."""
    found = re.fullmatch(r":(\w+)" if dialect == "sqlite" else r"%\((\w+)\)s", text.strip())
    return found.group(1) if found else None


def _selected(expression: str) -> str | None:
    """The column a select-list expression reads (JSON columns are read as text), or None for
    a constant."""
    expression = expression.strip()
    cast = re.fullmatch(r"CAST\((\w+) AS TEXT\)", expression)
    if cast:
        return cast.group(1)
    return expression if re.fullmatch(r"[a-z_]+", expression) else None


def inserted(dialect: str, text: str, table: Table) -> list[str]:
    """The columns an INSERT into ``table`` writes, each from its own value."""
    name = _TABLE.format(name=table.name)
    values = re.search(rf"INSERT INTO {name} \(([^)]*)\) VALUES \((.*)\)$", text)
    if values:
        columns = _names(values.group(1))
        assert [_param(dialect, v) for v in _names(values.group(2))] == columns, text
        return columns
    from_json = re.search(
        rf"INSERT INTO {name} \(([^)]*)\) SELECT (.*?) FROM json_populate_recordset\(NULL::{name},", text
    )
    assert from_json, f"no INSERT INTO {table.name} in {text}"
    columns = _names(from_json.group(1))
    assert _names(from_json.group(2)) == columns, text
    return columns


def updated(dialect: str, text: str, table: Table) -> list[str]:
    """The columns an UPDATE of ``table`` names: those it sets, then the key it picks rows by."""
    name = _TABLE.format(name=table.name)
    value = r"(?::\w+|%\(\w+\)s|c\.\w+)"
    found = re.search(
        rf"UPDATE {name} (?:AS r )?SET ((?:\w+ = {value}(?:, )?)+) (?:FROM .*? AS c )?"
        rf"WHERE ((?:(?:r\.)?\w+ = {value}(?: AND )?)+)",
        text,
    )
    assert found, f"no UPDATE {table.name} in {text}"
    columns = []
    for assignment in _names(found.group(1)):
        column, _, value = assignment.partition(" = ")
        assert _param(dialect, value) == column or value == f"c.{column}", assignment
        columns.append(column)
    for condition in found.group(2).split(" AND "):
        column, _, value = condition.partition(" = ")
        column = column.removeprefix("r.")
        assert _param(dialect, value) == column or value == f"c.{column}", condition
        columns.append(column)
    return columns


def selected(dialect: str, text: str, table: Table) -> list[str]:
    """The columns a SELECT from ``table`` reads."""
    found = re.search(rf"SELECT ((?:(?!SELECT).)*?) FROM {_TABLE.format(name=table.name)}\b", text)
    assert found, f"no SELECT from {table.name} in {text}"
    return [c for c in map(_selected, _names(found.group(1))) if c is not None]


def _text(statement: Sql | str, dialect: str) -> str:
    if isinstance(statement, str):  # a template, made a statement per request by ``Sql.of``
        statement = Sql(statement)
    return statement.sqlite if dialect == "sqlite" else statement.pg


Reader = Callable[[str, str, Table], list[str]]

# Every statement that writes or reads a whole row: (statement, what it is, table, the columns it
# leaves out on purpose). Leaving out a column is a decision to write down here, with its reason.
WHOLE_ROW: list[tuple[str, Reader, Table, set[str]]] = [
    ("ROW", selected, tables.rows, set()),
    ("ROWS_IN", selected, tables.rows, set()),
    ("INSERT_ROW", inserted, tables.rows, set()),
    # A push never moves a row to another scope (an account move does, on SQLAlchemy Core).
    ("UPDATE_ROW", updated, tables.rows, {"scope"}),
    ("INSERT_CONFLICT", inserted, tables.conflicts, set()),
    # The eviction's id is the table's own sequence.
    ("INSERT_EVICTION", inserted, tables.evictions, {"id"}),
    ("NOTE_GIVEN_BACK", inserted, tables.given_back, set()),
    ("INSERT_RESULT", inserted, tables.results, set()),
    # Looked up by client id: the caller has it.
    ("STORED_RESULTS", selected, tables.results, {"client_id"}),
    # The PostgreSQL push: one statement doing the work of the five above.
    ("PG_WRITE", inserted, tables.rows, set()),
    ("PG_WRITE", updated, tables.rows, {"scope"}),
    ("PG_WRITE", inserted, tables.conflicts, set()),
    ("PG_WRITE", inserted, tables.results, set()),
]

# The pull page's parts, one per table. A laptop is not sent the scope (the page is the user's
# scopes), a row's deleted_version and writer (the server's bookkeeping: tombstone collection,
# the delete-after-edit check) or an eviction's own id.
PAGE_LEAVES_OUT = {
    "rows": {"scope", "deleted_version", "writer"},
    "conflicts": {"scope"},
    "evictions": {"id", "scope"},
}


def _is_statement(name: str, value: object) -> bool:
    if not name.isupper() or name.startswith("_"):
        return False
    return isinstance(value, Sql) or (isinstance(value, str) and "SELECT" in value)


def _all_statements() -> dict[str, Sql | str]:
    """The module's statements, and the templates it makes statements of per request."""
    return {name: value for name, value in vars(statements).items() if _is_statement(name, value)}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("name", "read", "table", "leaves_out"),
    WHOLE_ROW,
    ids=[f"{name}-{read.__name__}-{table.name}" for name, read, table, _ in WHOLE_ROW],
)
def test_each_whole_row_statement_names_every_column_of_its_table(
    dialect: str, name: str, read: Reader, table: Table, leaves_out: set[str]
) -> None:
    named = read(dialect, _text(getattr(statements, name), dialect), table)
    assert len(named) == len(set(named)), named
    assert set(named) == set(table.c.keys()) - leaves_out


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_part_of_the_pull_page_names_every_column_its_table_sends(dialect: str) -> None:
    parts = _text(statements.PAGE, dialect).split(" UNION ALL ")
    assert len(parts) == len(PAGE_LEAVES_OUT)
    widths = set()
    for part, table in zip(parts, (tables.rows, tables.conflicts, tables.evictions), strict=True):
        named = selected(dialect, part, table)
        assert set(named) == set(table.c.keys()) - PAGE_LEAVES_OUT[table.name], part
        inner = re.search(r"SELECT \* FROM \(SELECT (.*?) FROM ", part)
        assert inner is not None
        widths.add(len(_names(inner.group(1))))
    assert widths == {len(statements.PAGE_SLOTS)}  # one column layout for the three parts


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_insert_is_one_of_the_checked_statements(dialect: str) -> None:
    """A new INSERT in the statements module is checked too (or this fails until it is)."""
    checked = {(name, table.name) for name, read, table, _ in WHOLE_ROW if read is inserted}
    found = set()
    for name, statement in _all_statements().items():
        for table in re.findall(r'INSERT INTO "?(\w+)"?', _text(statement, dialect)):
            found.add((name, table))
    assert found == checked


def test_a_stored_push_result_has_every_column() -> None:
    """``push.result_row`` feeds ``INSERT_RESULT`` on SQLite and ``json_populate_recordset`` on
    PostgreSQL, which would store NULL for a key it lacks."""
    m = Mutation(mid=1, entity="contact", row_id=uuid.uuid4(), op="update", patch={}, base={})
    row = push.result_row(str(uuid.uuid4()), m, MutationResult(mid=1, status="applied", version=3))
    assert list(row) == list(tables.results.c.keys())


def _example_params(raw: Raw, template: str) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    fills = {
        name: raw.in_list(name[0], ["x"], params)
        for name in ("entities", "ids", "scopes")
        if "{" + name + "}" in template
    }
    return template.format(**fills), params


def test_every_statement_is_valid_on_the_database(backend: Backend) -> None:
    """Each statement, as its driver gets it, is accepted by a migrated database (EXPLAIN: planned,
    not run), so a misspelt column fails here and not on the first request that uses it."""
    db = ServerDB(backend.new_url())
    try:
        db.migrate()
        with db.write_engine.connect() as conn:
            raw = Raw(conn)
            for name, statement in _all_statements().items():
                if name == "PG_WRITE" and not raw.pg:
                    continue  # PostgreSQL's own (json_populate_recordset)
                filled: dict[str, Any] = {}
                if isinstance(statement, str):
                    text, filled = _example_params(raw, statement)
                    statement = Sql(text)
                sql = statement.pg if raw.pg else statement.sqlite
                values = dict.fromkeys(re.findall(r"(?<![:\w]):(\w+)", statement.sqlite)) | filled
                with raw.translated(sql):
                    raw.cursor.execute("EXPLAIN " + sql, values)
                    raw.cursor.fetchall()
            conn.rollback()
    finally:
        db.close()
