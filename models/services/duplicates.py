"""Finding contacts that are probably the same person.

Two live contacts are likely duplicates when they share an email address (compared without
case), or a phone number (compared by its digits, whatever the formatting), or when their names
are similar (``rapidfuzz``, accents and case folded, word order ignored) and they are at the same
account. Names alone across accounts are not enough: two "John Smith"s at two customers are two
people. The finder reads the columns it needs in one statement and compares in memory, so it
stays well under 10 s on 100,000 contacts (``bench/dupes_bench.py``).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from models.validation import normalize_phone

# Names at one account scoring at least this (0-100, token sort ratio) are proposed.
NAME_THRESHOLD = 88
# An address or number shared by more contacts than this (a switchboard, info@...) says little
# about any two of them: its group gives pairs with its first member only.
BIG_GROUP = 20
_SPACES = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"\D")


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    """Two contacts that look like the same person, and why (for the Find duplicates list)."""

    first_id: uuid.UUID
    first_name: str
    second_id: uuid.UUID
    second_name: str
    account_name: str
    reasons: tuple[str, ...]  # "same email anna@delta.example", "similar names (92%)"...
    score: int  # 100 for a shared email or phone, else the names' similarity


@dataclass(frozen=True, slots=True)
class LikelyMatch:
    """An existing contact the one being typed may be (the contact form's warning)."""

    id: uuid.UUID
    name: str
    account_name: str
    reason: str


def fold_name(name: str) -> str:
    """A name as compared: accents removed, case folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.casefold()).strip()


def phone_key(phone: str) -> str | None:
    """A phone number as compared: its digits in international form, or None if it is not one.

    The services store numbers in international form, so the digits after the "+" are the key;
    anything else (an older or imported value) is parsed first."""
    raw = phone.strip()
    if raw.startswith("+"):
        digits = _NOT_DIGIT.sub("", raw)
        return "+" + digits if len(digits) >= 6 else None
    try:
        return "+" + _NOT_DIGIT.sub("", normalize_phone(raw))
    except ValueError:
        return None


def _texts(cell: str | bytes | None) -> list[str]:
    if not cell or cell == "[]":
        return []
    try:
        value = orjson.loads(cell)
    except orjson.JSONDecodeError:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


_LIVE = "SELECT id, name, account_id, emails, phones FROM contacts WHERE deleted_at IS NULL"
_ACCOUNT_NAMES = text("SELECT id, name FROM accounts WHERE deleted_at IS NULL AND id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


def _pairs_in(group: Sequence[int]) -> Iterable[tuple[int, int]]:
    if len(group) > BIG_GROUP:
        first = group[0]
        return ((first, other) for other in group[1:])
    return ((group[i], group[j]) for i in range(len(group)) for j in range(i + 1, len(group)))


@dataclass
class Scan:
    """Every likely pair, by position in the contacts read (``find_duplicates`` names them)."""

    ids: list[str]
    names: list[str]
    accounts: list[str | None]  # account ids
    reasons: dict[tuple[int, int], list[tuple[str, str | int]]]  # ("email", address)...
    scores: dict[tuple[int, int], int]

    def ranked(self) -> list[tuple[int, int]]:
        """Strongest first: more reasons, then a higher score, then by name."""
        return sorted(
            self.reasons, key=lambda p: (-len(self.reasons[p]), -self.scores[p], self.names[p[0]].casefold())
        )


def scan(session: Session, threshold: int = NAME_THRESHOLD) -> Scan:
    """Compare every live contact with the others (one statement, then in memory)."""
    # The driver's own cursor: 100,000 rows through SQLAlchemy's Row objects cost a second.
    rows = session.connection().exec_driver_sql(_LIVE).fetchall()
    ids: list[str] = []
    names: list[str] = []
    accounts: list[str | None] = []
    by_email: dict[str, list[int]] = defaultdict(list)
    by_phone: dict[str, list[int]] = defaultdict(list)
    by_account: dict[str, list[int]] = defaultdict(list)
    for i, (cid, name, account_id, emails, phones) in enumerate(rows):
        ids.append(cid)
        names.append(name)
        accounts.append(account_id)
        if emails and emails != "[]":
            for email in {e.strip().casefold() for e in _texts(emails)}:
                if email:
                    by_email[email].append(i)
        if phones and phones != "[]":
            for key in {pk for p in _texts(phones) if (pk := phone_key(p))}:
                by_phone[key].append(i)
        if account_id is not None:
            by_account[account_id].append(i)
    reasons: dict[tuple[int, int], list[tuple[str, str | int]]] = defaultdict(list)
    scores: dict[tuple[int, int], int] = {}
    for label, groups in (("email", by_email), ("phone", by_phone)):
        for key, group in groups.items():
            if len(group) < 2:
                continue
            for pair in _pairs_in(group):
                reasons[pair].append((label, key))
                scores[pair] = 100
    folded_cache: dict[str, str] = {}
    for group in by_account.values():
        if len(group) < 2:
            continue
        folded = []
        for i in group:
            name = names[i]
            if (f := folded_cache.get(name)) is None:
                f = folded_cache[name] = fold_name(name)
            folded.append(f)
        for j in range(len(group) - 1):
            # One C loop per name over the names after it at the same account.
            for _choice, score, k in process.extract(
                folded[j],
                folded[j + 1 :],
                scorer=fuzz.token_sort_ratio,
                score_cutoff=threshold,
                limit=None,
            ):
                pair = (group[j], group[j + 1 + k])
                reasons[pair].append(("names", round(score)))
                scores[pair] = max(scores.get(pair, 0), round(score))
    return Scan(ids, names, accounts, reasons, scores)


def find_duplicates(
    session: Session, *, threshold: int = NAME_THRESHOLD, limit: int = 5000
) -> list[DuplicatePair]:
    """Likely duplicate pairs among the live contacts, strongest first (at most ``limit``)."""
    found = scan(session, threshold)
    top = found.ranked()[:limit]
    wanted = sorted(
        {acc for a, b in top if (acc := found.accounts[a]) is not None and acc == found.accounts[b]}
    )
    account_names: dict[str, str] = {}
    if wanted:
        account_names = {str(i): str(n) for i, n in session.execute(_ACCOUNT_NAMES, {"ids": wanted})}
    out: list[DuplicatePair] = []
    for a, b in top:
        same = found.accounts[a] if found.accounts[a] == found.accounts[b] else None
        out.append(
            DuplicatePair(
                _uuid(found.ids[a]),
                found.names[a],
                _uuid(found.ids[b]),
                found.names[b],
                account_names.get(same, "") if same is not None else "",
                tuple(_reason(kind, what) for kind, what in found.reasons[(a, b)]),
                found.scores[(a, b)],
            )
        )
    return out


def _reason(kind: str, what: str | int) -> str:
    return f"similar names ({what}%)" if kind == "names" else f"same {kind} {what}"


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


_BY_ACCOUNT = text(
    "SELECT id, name FROM contacts WHERE account_id = :account AND deleted_at IS NULL"
).bindparams(bindparam("account"))


def _literal(typed: str) -> str:
    """``typed`` inside a LIKE pattern with ``ESCAPE '\\'``: its % and _ match only themselves
    (an email address often holds an underscore)."""
    return typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_SAME_NAME = text(
    "SELECT id, name FROM contacts WHERE deleted_at IS NULL AND name LIKE :name ESCAPE '\\' LIMIT 20"
)


def likely_matches(
    session: Session,
    name: str,
    account_id: uuid.UUID | None,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    *,
    exclude: uuid.UUID | None = None,
    limit: int = 3,
) -> list[LikelyMatch]:
    """Existing contacts the one being typed probably is: the same email or phone anywhere, a
    similar name at the same account (or, before an account is chosen, the same name anywhere).
    For the contact form, run off the GUI thread: the email, phone and name checks each read
    every contact row (tens of milliseconds on 100,000; bench/dupes_bench.py)."""
    found: dict[uuid.UUID, str] = {}
    conds: list[str] = []
    params: dict[str, object] = {}
    for n, email in enumerate(e.strip() for e in emails if "@" in e):
        # SQLite's LIKE ignores ASCII case; a non-ASCII capital is compared as typed.
        params[f"e{n}"] = f'%"{_literal(email)}"%'
        conds.append(f"emails LIKE :e{n} ESCAPE '\\'")
    for n, phone in enumerate(phones):
        try:
            params[f"p{n}"] = f'%"{_literal(normalize_phone(phone))}"%'
        except ValueError:
            continue
        conds.append(f"phones LIKE :p{n} ESCAPE '\\'")
    if conds:
        stmt = text(
            f"SELECT id, emails, phones FROM contacts WHERE deleted_at IS NULL AND ({' OR '.join(conds)})"
        )
        typed_emails = {e.strip().casefold() for e in emails}
        typed_phones = {pk for p in phones if (pk := phone_key(p))}
        for cid, email_cell, phone_cell in session.execute(stmt, params).all()[:20]:
            # The exact check (the LIKE only narrows): a shared address, else a shared number.
            shared = typed_emails & {e.casefold() for e in _texts(email_cell)}
            if shared:
                found.setdefault(_uuid(cid), f"same email {min(shared)}")
            elif typed_phones & {hk for p in _texts(phone_cell) if (hk := phone_key(p))}:
                found.setdefault(_uuid(cid), "same phone number")
    folded = fold_name(name)
    if account_id is None and len(folded) >= 3:
        # No account chosen yet (the rep types the name first): the same name anywhere (LIKE
        # ignores ASCII case).
        for cid, _name in session.execute(_SAME_NAME, {"name": _literal(name.strip())}).all()[:limit]:
            found.setdefault(_uuid(cid), "same name")
    if account_id is not None and len(folded) >= 3:
        rows = session.execute(_BY_ACCOUNT, {"account": account_id.hex}).all()
        for _choice, score, k in process.extract(
            folded,
            [fold_name(r.name) for r in rows],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=NAME_THRESHOLD,
            limit=limit,
        ):
            found.setdefault(_uuid(rows[k].id), f"similar name ({round(score)}%)")
    if exclude is not None:
        found.pop(exclude, None)
    if not found:
        return []
    picked = list(found)[:limit]
    info = {
        _uuid(r[0]): (r[1], r[2])
        for r in session.execute(
            text(
                "SELECT c.id, c.name, coalesce(a.name, '') FROM contacts c "
                "LEFT JOIN accounts a ON a.id = c.account_id AND a.deleted_at IS NULL "
                "WHERE c.id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": [i.hex for i in picked]},
        )
    }
    return [LikelyMatch(i, *info[i], found[i]) for i in picked if i in info]
