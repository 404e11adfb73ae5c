"""One search over contacts, accounts, notes, commitments and visits (Ctrl+K).

Everything goes through the FTS5 indexes the triggers keep current (migrations 0001 and 0010),
so a row is findable in the transaction that writes it, pulled or typed. What the rep types is
read as words that must all match, each as the start of a word (they are still typing it);
accents are folded both ways by the tokenizer (``remove_diacritics 2``); a run of words joined
without spaces ("anna.mueller@delta.de", "O'Brien") must match as that phrase; digits typed as a
phone number are also looked up by substring in the phone-digits index.

Speed over a million notes (bench/search_bench.py): each kind reads at most a few rows in
index order and stops (``ORDER BY rowid`` is served by FTS5 itself, so nothing is sorted and
``highlight()``/``snippet()`` run only for the rows returned); ranking happens here, in Python,
over those few candidates. A word of four letters or more that is still being typed is
expanded into the indexed words it starts (read from the index's vocabulary), because FTS5
answers a prefix query by merging the lists of every such word before it can stop, 10-50 ms on
a million notes; an OR of whole words is read lazily and stops after a page.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

KINDS = ("contact", "account", "note", "commitment", "visit")
KIND_TITLES = {
    "contact": "Contacts",
    "account": "Accounts",
    "note": "Notes",
    "commitment": "Commitments",
    "visit": "Visits",
}
# Around a matching word in ``title`` and ``detail`` (control characters, never in a rep's text).
MARK_START, MARK_END = "\x02", "\x03"
PER_KIND = 5
# Candidates read per kind before ranking: enough that the best few are among them.
_CANDIDATES = 20
# A word being typed expands into at most this many indexed words; more, and the prefix query
# (fast for up to three characters, which have prefix indexes) is cheaper.
_MAX_TERMS = 24
_TOKEN = re.compile(r"\w+", re.UNICODE)
_PHONE_CHARS = re.compile(r"[\s\-().+/\u00a0]")
_JSON_PUNCTUATION = re.compile(r'[\[\]"]+')


@dataclass(frozen=True, slots=True)
class SearchHit:
    kind: str
    id: uuid.UUID
    title: str  # with MARK_START/MARK_END around the matching words
    detail: str  # context: a snippet of the note, the contact's account, the visit's day...
    contact_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    when: datetime | date | None = None
    in_trash: bool = False


@dataclass(frozen=True)
class SearchResults:
    text: str
    groups: dict[str, list[SearchHit]] = field(default_factory=dict)  # KINDS order, none empty

    def hits(self) -> list[SearchHit]:
        return [hit for kind in self.groups for hit in self.groups[kind]]

    def __bool__(self) -> bool:
        return bool(self.groups)


def fold(text: str) -> str:
    """Lower case without accents, as the index's tokenizer stores words."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def unmarked(text: str) -> str:
    return text.replace(MARK_START, "").replace(MARK_END, "")


@dataclass(frozen=True)
class _Query:
    chunks: list[list[str]]  # what was typed, split at spaces, each part's words

    @property
    def words(self) -> list[str]:
        return [w for chunk in self.chunks for w in chunk]


def parse(text: str) -> _Query:
    return _Query([words for part in text.split() if (words := _TOKEN.findall(part))])


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _vocabulary(conn: Connection, fts: str) -> str:
    """A per-connection view of the index's words (``fts5vocab``), made on first use. In the
    temp schema: it is nothing the file needs to keep, and nothing a migration must know."""
    name = f"{fts}_terms"
    conn.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{name} USING fts5vocab(main, {fts}, 'instance')"
    )
    return f"temp.{name}"


def _expanded(conn: Connection, fts: str, word: str) -> str:
    """``word`` as the start of a word: the indexed words it starts, joined by OR, or the prefix
    query when there are none or too many. Each step seeks to the next word (the instance
    vocabulary is in word order; ``>= last + '\\x01'`` skips the rest of a word's instances)."""
    start = fold(word)
    prefix = f"{_quoted(word)}*"
    if len(start) <= 3:
        return prefix
    vocab = _vocabulary(conn, fts)
    terms: list[str] = []
    lower, upper = start, start + "\U0010ffff"
    while len(terms) <= _MAX_TERMS:
        row = conn.exec_driver_sql(
            f"SELECT term FROM {vocab} WHERE term >= ? AND term < ? LIMIT 1", (lower, upper)
        ).fetchone()
        if row is None:
            break
        terms.append(row[0])
        lower = row[0] + "\x01"
    if not terms or len(terms) > _MAX_TERMS:
        return prefix
    return "(" + " OR ".join(_quoted(t) for t in terms) + ")"


def match_expression(conn: Connection | None, fts: str, query: _Query, *, expand: bool = False) -> str | None:
    """The FTS5 MATCH text for ``query``: every part must match; a part of several words
    (an e-mail address) as a phrase whose last word may be unfinished."""
    parts: list[str] = []
    for words in query.chunks:
        if len(words) > 1:
            parts.append(_quoted(" ".join(words)) + "*")
        elif expand and conn is not None:
            parts.append(_expanded(conn, fts, words[0]))
        else:
            parts.append(f"{_quoted(words[0])}*")
    return " AND ".join(parts) or None


def phone_digits(text: str) -> str | None:
    """What to look for in the phone-digits index when ``text`` is a phone number (or part of
    one), whatever its separators: its digits, without a leading international "00" or trunk
    "0" (stored numbers are international, "+44 20..." is indexed "4420..."). None when it is
    not digits, or too few to search (the index matches three characters or more)."""
    digits = _PHONE_CHARS.sub("", text)
    if not digits.isdigit() or not digits.isascii():
        return None
    if digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    return digits if len(digits) >= 3 else None


# -- the searches, one per kind ------------------------------------------------------------------


def _rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return list(conn.exec_driver_sql(sql, tuple(params)).fetchall())


def _when(value: Any) -> datetime | None:
    """A stored UTC time (naive text, read here without the ORM) as an aware datetime."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC)


def _rank_by_name(hits: list[tuple[SearchHit, str]], query: _Query) -> list[SearchHit]:
    """Names that start with what was typed first, then names with a word starting so, then
    the rest (a match in another field: a role, an e-mail, a note about them); then A-Z."""
    first = fold(query.words[0]) if query.words else ""
    words = [fold(w) for w in query.words]

    def key(item: tuple[SearchHit, str]) -> tuple[int, str]:
        _hit, name = item
        folded = fold(name)
        if folded.startswith(first):
            tier = 0
        elif any(part.startswith(w) for part in _TOKEN.findall(folded) for w in words):
            tier = 1
        else:
            tier = 2
        return tier, folded

    return [hit for hit, _name in sorted(hits, key=key)]


def _clean_snippet(text: str) -> str:
    # Contacts' lists (e-mails, phones, tags) are indexed as their JSON text.
    return " ".join(_JSON_PUNCTUATION.sub(" ", text).split())


def _contacts(conn: Connection, query: _Query, text: str, trash: bool, limit: int) -> list[SearchHit]:
    expr = match_expression(conn, "contacts_fts", query)
    live = "" if trash else "AND c.deleted_at IS NULL"
    found: dict[uuid.UUID, tuple[SearchHit, str]] = {}
    columns = (
        "c.id, c.name, c.role, coalesce(a.name, ''), c.deleted_at, c.account_id, c.phones, "
        f"highlight(contacts_fts, 0, '{MARK_START}', '{MARK_END}'), "
        f"snippet(contacts_fts, -1, '{MARK_START}', '{MARK_END}', '…', 8)"
    )
    body = (
        "FROM contacts_fts JOIN contacts c ON c.rowid = contacts_fts.rowid "
        "LEFT JOIN accounts a ON a.id = c.account_id "
        f"WHERE contacts_fts MATCH ? {live} ORDER BY contacts_fts.rowid LIMIT ?"
    )
    searches: list[tuple[str, str]] = []
    if expr:
        # The name first: among thousands of matches ("an"), the people called so must be read.
        searches += [(f"SELECT {columns} {body}", f"name : ({expr})"), (f"SELECT {columns} {body}", expr)]
    for sql, match in searches:
        for r in _rows(conn, sql, (match, _CANDIDATES)):
            if r[0] in found:
                continue
            title, snippet = r[7], _clean_snippet(r[8])
            context = " · ".join(part for part in (r[2], r[3]) if part)
            detail = snippet if MARK_START in snippet and MARK_START not in title else context
            hit = SearchHit(
                "contact",
                uuid.UUID(r[0]),
                title,
                detail,
                uuid.UUID(r[0]),
                _uuid(r[5]),
                None,
                r[4] is not None,
            )
            found[hit.id] = (hit, r[1])
    digits = phone_digits(text)
    if digits:
        sql = (
            "SELECT c.id, c.name, c.phones, c.deleted_at, c.account_id, coalesce(a.name, '') "
            "FROM contacts_phones_fts p JOIN contacts c ON c.rowid = p.rowid "
            "LEFT JOIN accounts a ON a.id = c.account_id "
            f"WHERE contacts_phones_fts MATCH ? {live} ORDER BY p.rowid LIMIT ?"
        )
        for r in _rows(conn, sql, (_quoted(digits), _CANDIDATES)):
            if uuid.UUID(r[0]) in found:
                continue
            phones = _clean_snippet(r[2])
            detail = " · ".join(part for part in (phones, r[5]) if part)
            hit = SearchHit(
                "contact", uuid.UUID(r[0]), r[1], detail, uuid.UUID(r[0]), _uuid(r[4]), None, r[3] is not None
            )
            found[hit.id] = (hit, r[1])
    return _rank_by_name(list(found.values()), query)[:limit]


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None:
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _accounts(conn: Connection, query: _Query, trash: bool, limit: int) -> list[SearchHit]:
    expr = match_expression(conn, "accounts_fts", query)
    if not expr:
        return []
    live = "" if trash else "AND a.deleted_at IS NULL"
    sql = (
        f"SELECT a.id, a.name, a.segment, a.address, a.deleted_at, "
        f"highlight(accounts_fts, 0, '{MARK_START}', '{MARK_END}'), "
        f"snippet(accounts_fts, -1, '{MARK_START}', '{MARK_END}', '…', 8) "
        "FROM accounts_fts JOIN accounts a ON a.rowid = accounts_fts.rowid "
        f"WHERE accounts_fts MATCH ? {live} ORDER BY accounts_fts.rowid LIMIT ?"
    )
    found: dict[uuid.UUID, tuple[SearchHit, str]] = {}
    for match in (f"name : ({expr})", expr):
        for r in _rows(conn, sql, (match, _CANDIDATES)):
            account_id = uuid.UUID(r[0])
            if account_id in found:
                continue
            title, snippet = r[5], r[6]
            context = " · ".join(part for part in (r[2], r[3]) if part)
            detail = snippet if MARK_START in snippet and MARK_START not in title else context
            hit = SearchHit("account", account_id, title, detail, None, account_id, None, r[4] is not None)
            found[account_id] = (hit, r[1])
    return _rank_by_name(list(found.values()), query)[:limit]


def _notes(conn: Connection, query: _Query, trash: bool, limit: int) -> list[SearchHit]:
    """The newest written (rowid order, served by the index: what the rep said lately), shown
    latest first by the date they happened."""
    expr = match_expression(conn, "notes_fts", query, expand=True)
    if not expr:
        return []
    live = "" if trash else "AND n.deleted_at IS NULL"
    sql = (
        "SELECT n.id, n.contact_id, n.account_id, n.occurred_at, n.deleted_at, coalesce(c.name, ''), "
        f"highlight(notes_fts, 0, '{MARK_START}', '{MARK_END}'), "
        f"snippet(notes_fts, 1, '{MARK_START}', '{MARK_END}', '…', 12) "
        "FROM notes_fts JOIN notes n ON n.rowid = notes_fts.rowid "
        "LEFT JOIN contacts c ON c.id = n.contact_id "
        f"WHERE notes_fts MATCH ? {live} ORDER BY notes_fts.rowid DESC LIMIT ?"
    )
    rows = _rows(conn, sql, (expr, _CANDIDATES))
    rows.sort(key=lambda r: r[3], reverse=True)  # the newest written, shown by their date
    hits = []
    for r in rows[:limit]:
        when = _when(r[3])
        summary = r[6] or "(no summary)"
        title = f"{summary} — {r[5]}" if r[5] else summary
        hits.append(
            SearchHit("note", uuid.UUID(r[0]), title, r[7], _uuid(r[1]), _uuid(r[2]), when, r[4] is not None)
        )
    return hits


def _commitments(conn: Connection, query: _Query, trash: bool, limit: int) -> list[SearchHit]:
    """Open ones first (by due date), then done and cancelled, newest first."""
    expr = match_expression(conn, "commitments_fts", query)
    if not expr:
        return []
    live = "" if trash else "AND m.deleted_at IS NULL"
    sql = (
        "SELECT m.id, m.contact_id, m.account_id, m.due_date, m.status, m.deleted_at, "
        f"coalesce(c.name, ''), highlight(commitments_fts, 0, '{MARK_START}', '{MARK_END}') "
        "FROM commitments_fts JOIN commitments m ON m.rowid = commitments_fts.rowid "
        "LEFT JOIN contacts c ON c.id = m.contact_id "
        f"WHERE commitments_fts MATCH ? {live} ORDER BY commitments_fts.rowid DESC LIMIT ?"
    )
    rows = _rows(conn, sql, (expr, _CANDIDATES))
    rows.sort(key=lambda r: (r[4] != "open", r[3] is None, r[3] or ""))
    hits = []
    for r in rows[:limit]:
        due = date.fromisoformat(r[3]) if r[3] else None
        detail = " · ".join(part for part in (r[6], r[4], f"due {due.isoformat()}" if due else "") if part)
        hits.append(
            SearchHit(
                "commitment", uuid.UUID(r[0]), r[7], detail, _uuid(r[1]), _uuid(r[2]), None, r[5] is not None
            )
        )
    return hits


def _visits(conn: Connection, query: _Query, trash: bool, limit: int) -> list[SearchHit]:
    """Latest first (planned ones are the ones a rep looks for)."""
    expr = match_expression(conn, "visits_fts", query)
    if not expr:
        return []
    live = "" if trash else "AND v.deleted_at IS NULL"
    sql = (
        "SELECT v.id, v.account_id, v.starts_at, v.deleted_at, coalesce(a.name, ''), v.location, "
        f"highlight(visits_fts, 0, '{MARK_START}', '{MARK_END}'), "
        f"snippet(visits_fts, -1, '{MARK_START}', '{MARK_END}', '…', 10) "
        "FROM visits_fts JOIN visits v ON v.rowid = visits_fts.rowid "
        "LEFT JOIN accounts a ON a.id = v.account_id "
        f"WHERE visits_fts MATCH ? {live} ORDER BY visits_fts.rowid DESC LIMIT ?"
    )
    rows = _rows(conn, sql, (expr, _CANDIDATES))
    rows.sort(key=lambda r: r[2], reverse=True)
    hits = []
    for r in rows[:limit]:
        when = _when(r[2])
        title = r[6] or "(no purpose)"
        matched_elsewhere = MARK_START in r[7] and MARK_START not in title
        detail = r[7] if matched_elsewhere else " · ".join(p for p in (r[4], r[5]) if p)
        hits.append(
            SearchHit("visit", uuid.UUID(r[0]), title, detail, None, _uuid(r[1]), when, r[3] is not None)
        )
    return hits


def search(
    session: Session,
    text: str,
    *,
    include_trash: bool = False,
    per_kind: int = PER_KIND,
    kinds: Sequence[str] = KINDS,
) -> SearchResults:
    """What matches ``text``, grouped by kind (``KINDS`` order), best first in each group.
    Rows in the trash only with ``include_trash`` (then marked ``in_trash``)."""
    query = parse(text)
    if not query.chunks and phone_digits(text) is None:
        return SearchResults(text)
    conn = session.connection()
    found = {
        "contact": lambda: _contacts(conn, query, text, include_trash, per_kind),
        "account": lambda: _accounts(conn, query, include_trash, per_kind),
        "note": lambda: _notes(conn, query, include_trash, per_kind),
        "commitment": lambda: _commitments(conn, query, include_trash, per_kind),
        "visit": lambda: _visits(conn, query, include_trash, per_kind),
    }
    groups = {kind: hits for kind in KINDS if kind in kinds and (hits := found[kind]())}
    return SearchResults(text, groups)


__all__ = ["KINDS", "KIND_TITLES", "MARK_END", "MARK_START", "SearchHit", "SearchResults", "search"]
