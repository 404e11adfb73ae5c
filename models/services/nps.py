"""Net Promoter Score from the feedback scores (0-10) a rep records.

Promoters score 9-10, passives 7-8, detractors 0-6. NPS = % promoters - % detractors, from -100
to 100; with no scored answer there is no NPS (``None``), and all passives make 0. Feedback
without a score (a comment alone) is not an answer. A period is two local dates, both included
(``models.services.periods``); quarters are the rep's local calendar quarters.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Literal, TypedDict, Unpack

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from models.entities import Contact, ContactKind, Feedback
from models.services.periods import Quarter, local_date, quarters, utc_bounds

Category = Literal["promoter", "passive", "detractor"]
CATEGORY_LABELS: dict[str, str] = {"promoter": "Promoter", "passive": "Passive", "detractor": "Detractor"}


def classify(score: int) -> Category:
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS score is 0-10, not {score}")
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


@dataclass(frozen=True, slots=True)
class NpsFigure:
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """% promoters - % detractors; ``None`` with no answers."""
        if not self.answers:
            return None
        return 100 * (self.promoters - self.detractors) / self.answers

    @property
    def text(self) -> str:
        """ "NPS +25 (8 answers: 4 promoters, 2 passives, 2 detractors)", or "no answers"."""
        score = self.score
        if score is None:
            return "no answers"
        parts = ", ".join(
            _count(n, what)
            for n, what in (
                (self.promoters, "promoter"),
                (self.passives, "passive"),
                (self.detractors, "detractor"),
            )
        )
        return f"NPS {round(score):+d} ({_count(self.answers, 'answer')}: {parts})"


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def figure_of(scores: list[int]) -> NpsFigure:
    counts = Counter(classify(s) for s in scores)
    return NpsFigure(counts["promoter"], counts["passive"], counts["detractor"])


class NpsScope(TypedDict, total=False):
    """Whose answers: one account (its own and its people's), one kind of contact, or the rep
    (neither); ``tz`` is the rep's zone (``None``: the machine's)."""

    account_id: uuid.UUID | None
    kind: str | None
    tz: tzinfo | None


def _scores(start: date, end: date, scope: NpsScope) -> Select:
    account_id, kind = scope.get("account_id"), scope.get("kind")
    low, high = utc_bounds(start, end, scope.get("tz"))
    stmt = select(Feedback.received_at, Feedback.score).where(
        Feedback.deleted_at.is_(None),
        Feedback.score.is_not(None),
        Feedback.received_at >= low,
        Feedback.received_at < high,
    )
    if account_id is not None:
        people = select(Contact.id).where(Contact.account_id == account_id)
        stmt = stmt.where(or_(Feedback.account_id == account_id, Feedback.contact_id.in_(people)))
    if kind is not None:
        # Feedback filed under an account alone has no kind of contact: it counts for no kind.
        stmt = stmt.join(Contact, Contact.id == Feedback.contact_id).where(Contact.kind == kind)
    return stmt


def nps(session: Session, *, start: date, end: date, **scope: Unpack[NpsScope]) -> NpsFigure:
    """The NPS of the feedback received on the local days ``start`` to ``end`` (both included)."""
    return figure_of([score for _when, score in session.execute(_scores(start, end, scope))])


def nps_by_quarter(
    session: Session, *, start: date, end: date, **scope: Unpack[NpsScope]
) -> list[tuple[Quarter, NpsFigure]]:
    """The NPS of each local quarter the period touches, oldest first (a quarter with no answers
    is listed with ``score`` None, so a chart shows the gap). The first and last quarter count
    only the days inside the period."""
    buckets: dict[Quarter, list[int]] = {q: [] for q in quarters(start, end)}
    for when, score in session.execute(_scores(start, end, scope)):
        buckets[Quarter.of(local_date(when, scope.get("tz")))].append(score)
    return [(q, figure_of(scores)) for q, scores in buckets.items()]


@dataclass(frozen=True, slots=True)
class NpsBreakdown:
    overall: NpsFigure
    by_quarter: tuple[tuple[Quarter, NpsFigure], ...]
    by_kind: tuple[tuple[str, NpsFigure], ...]  # every kind of contact, in ContactKind order


def nps_breakdown(session: Session, *, start: date, end: date, tz: tzinfo | None = None) -> NpsBreakdown:
    """The rep's NPS over the period, by local quarter and by kind of contact, from one read of
    the period's answers (feedback under an account alone counts overall, for no kind)."""
    stmt = (
        _scores(start, end, {"tz": tz})
        .add_columns(Contact.kind)
        .outerjoin(Contact, Contact.id == Feedback.contact_id)
    )
    everyone: list[int] = []
    quarters_seen: dict[Quarter, list[int]] = {q: [] for q in quarters(start, end)}
    kinds: dict[str, list[int]] = {k.value: [] for k in ContactKind}
    for when, score, kind in session.execute(stmt):
        everyone.append(score)
        quarters_seen[Quarter.of(local_date(when, tz))].append(score)
        if kind is not None:
            kinds.setdefault(kind, []).append(score)
    return NpsBreakdown(
        figure_of(everyone),
        tuple((q, figure_of(s)) for q, s in quarters_seen.items()),
        tuple((k, figure_of(s)) for k, s in kinds.items()),
    )
