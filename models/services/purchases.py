"""Purchases: what a customer bought, and the account's last order and 12-month totals.

Amounts are stored as whole cents (no float rounding) in the purchase's own currency; totals are
kept per currency, never converted (the app knows no exchange rates).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, func, select, union
from sqlalchemy.orm import Session, aliased

from models.entities import Account, Contact, Purchase
from models.services.common import get_live
from models.services.owners import apply_changes, owner_account
from models.validation import check_storable, parse_date, raise_if, require

# ISO 4217 codes in circulation (2024). A typo ("EUE") is refused rather than stored, since a
# total per currency would otherwise split one currency in two.
CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 (a block of codes reads and checks better than 170 quoted ones)
)
MAX_CENTS = 10**15  # a sanity bound well inside SQLite's integer, far beyond any real order

AMOUNT_HINT = (
    "As you write it: 1,250.50 or 1.250,50 or 1250,50\n"
    "(a , or . before the last one or two digits is the decimal mark)"
)
_GROUPED = re.compile(r"^\d{1,3}([,. '’]\d{3})+$")


def parse_amount(raw: str | int | None, errs: dict[str, str], field: str = "amount") -> int | None:
    """Cents from an amount typed as the rep writes it, or None when left empty.

    The rule: spaces and apostrophes group thousands; of "," and ".", the last one followed by
    one or two digits is the decimal mark, any other groups thousands. So "1,250.50",
    "1.250,50", "1 250,50" and "1250,50" are 1250.50, and "1,250" is 1250 (money with three
    decimals is rarer than an order over a thousand).
    """
    if raw is None or str(raw).strip() == "":
        return None
    if isinstance(raw, int):
        return raw * 100
    text = raw.strip()
    whole, cents = text, "0"
    match = re.search(r"[.,](\d{1,2})$", text)
    if match:
        whole, cents = text[: match.start()], match.group(1).ljust(2, "0")
    if whole == "":
        whole = "0"
    if not (whole.isdigit() or _GROUPED.match(whole)):
        errs[field] = f"“{raw}” is not an amount: write it like 1,250.50 or 1250,50 (no currency sign)"
        return None
    value = int(re.sub(r"\D", "", whole)) * 100 + int(cents)
    if value >= MAX_CENTS:
        errs[field] = "That amount is too large"
        return None
    return value


def format_amount(cents: int | None, currency: str = "") -> str:
    """Cents as "1,250.50" (with the currency after, when given); "" for no amount."""
    if cents is None:
        return ""
    text = f"{cents // 100:,}.{cents % 100:02d}"
    return f"{text} {currency}" if currency else text


def parse_currency(raw: str, errs: dict[str, str]) -> str:
    code = (raw or "").strip().upper()
    if code not in CURRENCIES:
        errs["currency"] = (
            f"“{raw}” is not a currency code: use the three letters, e.g. EUR, USD, GBP"
            if code
            else "A currency is required (e.g. EUR)"
        )
    return code


@dataclass(frozen=True, slots=True)
class PurchaseRow:
    id: uuid.UUID
    purchased_on: date
    product: str
    quantity: int
    amount_cents: int | None
    currency: str
    contact_id: uuid.UUID | None
    contact_name: str
    account_id: uuid.UUID | None
    account_name: str

    @property
    def amount_text(self) -> str:
        return format_amount(self.amount_cents, self.currency)


@dataclass
class PurchaseInput:
    """What the form collects, as typed: the amount as text ("1,250.50"), or cents as an int."""

    product: str
    purchased_on: str | date | None = None
    quantity: int | str = 1
    amount: str | int | None = None
    currency: str = "EUR"
    contact_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None


def purchase_input(row: PurchaseRow) -> PurchaseInput:
    """The form values of a recorded purchase (for editing)."""
    return PurchaseInput(
        product=row.product,
        purchased_on=row.purchased_on,
        quantity=row.quantity,
        amount=format_amount(row.amount_cents),
        currency=row.currency,
        contact_id=row.contact_id,
        account_id=row.account_id,
    )


def clean_purchase(session: Session | None, inp: PurchaseInput) -> dict[str, Any]:
    """Validated column values, or :class:`ValidationError` naming every bad field. Without a
    session (the form's instant checks on the GUI thread) the owner is not looked up."""
    errs: dict[str, str] = {}
    values: dict[str, Any] = {"product": require(inp.product, "product", errs, "What they bought")}
    when = parse_date(inp.purchased_on, "purchased_on", errs)
    if when is None and "purchased_on" not in errs:
        errs["purchased_on"] = "The date of the purchase is required (YYYY-MM-DD)"
    try:
        quantity = int(str(inp.quantity).strip())
        if quantity <= 0:
            errs["quantity"] = "The quantity is a whole number above 0"
    except ValueError:
        errs["quantity"] = f"“{inp.quantity}” is not a quantity: type a whole number above 0"
        quantity = 1
    values.update(
        purchased_on=when,
        quantity=quantity,
        amount_cents=parse_amount(inp.amount, errs),
        currency=parse_currency(inp.currency, errs),
        contact_id=inp.contact_id,
        account_id=(
            owner_account(session, inp.contact_id, inp.account_id, errs, "A purchase")
            if session is not None
            else inp.account_id
        ),
    )
    check_storable(Purchase, values, errs)
    raise_if(errs)
    return values


def add_purchase(session: Session, inp: PurchaseInput) -> uuid.UUID:
    row = Purchase(**clean_purchase(session, inp))
    session.add(row)
    session.flush()
    return row.id


def update_purchase(session: Session, purchase_id: uuid.UUID, inp: PurchaseInput) -> None:
    row = get_live(session, Purchase, purchase_id, "purchase")
    apply_changes(row, clean_purchase(session, inp))


@cache  # built once: making the statement cost more than running it (SQLAlchemy's coercions)
def _select() -> Select:
    c, a = aliased(Contact), aliased(Account)
    return (
        select(
            Purchase.id,
            Purchase.purchased_on,
            Purchase.product,
            Purchase.quantity,
            Purchase.amount_cents,
            Purchase.currency,
            Purchase.contact_id,
            func.coalesce(c.name, ""),
            Purchase.account_id,
            func.coalesce(a.name, ""),
        )
        .outerjoin(c, c.id == Purchase.contact_id)
        .outerjoin(a, a.id == Purchase.account_id)
        .where(Purchase.deleted_at.is_(None))
    )


def _newest_first(stmt: Select, limit: int | None) -> Select:
    stmt = stmt.order_by(Purchase.purchased_on.desc(), Purchase.created_at.desc(), Purchase.id)
    return stmt.limit(limit) if limit is not None else stmt


def list_purchases(session: Session, *, contact_id: uuid.UUID, limit: int | None = 200) -> list[PurchaseRow]:
    """A contact's purchases, newest first."""
    stmt = _newest_first(_select().where(Purchase.contact_id == contact_id), limit)
    return [PurchaseRow(*r) for r in session.execute(stmt)]


def get_purchase(session: Session, purchase_id: uuid.UUID) -> PurchaseRow:
    get_live(session, Purchase, purchase_id, "purchase")
    return PurchaseRow(*session.execute(_select().where(Purchase.id == purchase_id)).one())


def year_before(day: date) -> date:
    """The same day a year earlier; 29 February goes to the 28th."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True, slots=True)
class AccountPurchases:
    items: list[PurchaseRow]  # newest first (up to the limit asked for)
    last_order: PurchaseRow | None  # the latest purchase on or before today
    # Over the 12 months up to today (after the same day a year ago, up to today included), per
    # currency, in cents, largest first; purchases without an amount are counted in ``orders_12m``.
    totals_12m: tuple[tuple[str, int], ...]
    orders_12m: int


@cache  # built once: the statements cost more to make than to run
def _account_statements() -> tuple[Select, Select, Select, Select]:
    """An account's items, last order, 12-month totals and order count, by bound parameters:
    ``account_id``, ``today``, ``since`` (the window starts after it) and ``limit``."""
    account: BindParameter[uuid.UUID] = bindparam("account_id")
    today: BindParameter[date] = bindparam("today")
    people = select(Contact.id).where(Contact.account_id == account)
    # Two indexed lookups in a union: one OR would walk every purchase.
    ids = union(
        select(Purchase.id).where(Purchase.account_id == account),
        select(Purchase.id).where(Purchase.contact_id.in_(people)),
    ).subquery()
    mine = Purchase.id.in_(select(ids.c.id))
    window = (
        Purchase.deleted_at.is_(None),
        mine,
        Purchase.purchased_on > bindparam("since"),
        Purchase.purchased_on <= today,
    )
    return (
        _newest_first(_select().where(mine), None).limit(bindparam("limit")),
        _newest_first(_select().where(mine, Purchase.purchased_on <= today), 1),
        select(Purchase.currency, func.sum(Purchase.amount_cents))
        .where(*window, Purchase.amount_cents.is_not(None))
        .group_by(Purchase.currency),
        select(func.count()).where(*window),
    )


def account_purchases(
    session: Session, account_id: uuid.UUID, today: date, *, limit: int = 200
) -> AccountPurchases:
    """What an account bought (its own purchases and its people's), its last order, and its
    totals over the last 12 months. ``today`` is the rep's local date."""
    items_q, last_q, totals_q, orders_q = _account_statements()
    params = {"account_id": account_id, "today": today, "since": year_before(today), "limit": limit}
    items = [PurchaseRow(*r) for r in session.execute(items_q, params)]
    last = session.execute(last_q, params).first()
    totals = session.execute(totals_q, params).all()
    orders = session.execute(orders_q, params).scalar_one()
    return AccountPurchases(
        items=items,
        last_order=PurchaseRow(*last) if last is not None else None,
        totals_12m=tuple(sorted(((c, int(t or 0)) for c, t in totals), key=lambda ct: (-ct[1], ct[0]))),
        orders_12m=int(orders),
    )
