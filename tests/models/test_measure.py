"""NPS, promises kept on time, relationship health and the stakeholder map, on real SQLite."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from models.db import Database
from models.entities import Feedback
from models.services import accounts, commitments, contacts, notes
from models.services.accounts import AccountInput
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.health import (
    ContactFacts,
    Health,
    Member,
    account_health,
    contact_health,
    score_account,
    score_contact,
    score_only,
)
from models.services.insights import touches_by_month
from models.services.nps import classify, nps, nps_breakdown, nps_by_quarter
from models.services.periods import Quarter, quarters
from models.services.stakeholders import stakeholder_map

TODAY = date(2026, 6, 15)
UTC_TZ = UTC


def contact(db: Database, name: str, **kw: object) -> uuid.UUID:
    with db.write() as s:
        return contacts.create_contact(s, ContactInput(name=name, **kw))  # type: ignore[arg-type]


def account(db: Database, name: str = "Acme") -> uuid.UUID:
    with db.write() as s:
        return accounts.create_account(s, AccountInput(name))


def feedback(
    db: Database,
    score: int | None,
    when: datetime,
    contact_id: uuid.UUID | None = None,
    account_id: uuid.UUID | None = None,
) -> None:
    with db.write() as s:
        s.add(Feedback(score=score, received_at=when, contact_id=contact_id, account_id=account_id))


def at(day: date, hour: int = 12, tz: timezone | ZoneInfo = UTC) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


# --- NPS ----------------------------------------------------------------------------------------


def test_classify_the_three_categories_at_their_edges() -> None:
    assert [classify(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
    with pytest.raises(ValueError):
        classify(11)


def test_nps_with_no_answers_is_none_and_a_comment_alone_is_no_answer(db: Database) -> None:
    cid = contact(db, "Ann")
    feedback(db, None, at(TODAY), cid)
    with db.read() as s:
        figure = nps(s, start=TODAY - timedelta(days=30), end=TODAY, tz=UTC)
    assert figure.answers == 0 and figure.score is None and figure.text == "no answers"


def test_all_passives_make_zero_and_one_detractor_makes_minus_100(db: Database) -> None:
    cid = contact(db, "Ann")
    for score in (7, 8, 7):
        feedback(db, score, at(TODAY), cid)
    with db.read() as s:
        assert nps(s, start=TODAY, end=TODAY, tz=UTC).score == 0
    other = contact(db, "Bob", kind="partner")
    feedback(db, 3, at(TODAY + timedelta(days=1)), other)
    with db.read() as s:
        alone = nps(s, start=TODAY + timedelta(days=1), end=TODAY + timedelta(days=1), tz=UTC)
        partners = nps(s, start=TODAY, end=TODAY + timedelta(days=1), kind="partner", tz=UTC)
        everyone = nps(s, start=TODAY, end=TODAY + timedelta(days=1), tz=UTC)
    assert (alone.detractors, alone.score) == (1, -100)
    assert partners.score == -100 and partners.answers == 1
    assert everyone.score == -25 and "1 detractor" in everyone.text


def test_nps_per_account_counts_its_people_and_its_own_feedback(db: Database) -> None:
    acme, other = account(db), account(db, "Other")
    ann = contact(db, "Ann", account_id=acme)
    bob = contact(db, "Bob", account_id=other)
    feedback(db, 10, at(TODAY), ann)
    feedback(db, 9, at(TODAY), account_id=acme)
    feedback(db, 2, at(TODAY), bob)
    with db.read() as s:
        figure = nps(s, start=TODAY, end=TODAY, account_id=acme, tz=UTC)
    assert (figure.promoters, figure.detractors, figure.score) == (2, 0, 100)


def test_quarters_follow_the_reps_local_dates(db: Database) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cid = contact(db, "Ann")
    # 31 March 23:30 in Berlin is still the first quarter there, though 21:30 UTC...
    feedback(db, 10, datetime(2026, 3, 31, 23, 30, tzinfo=berlin), cid)
    # ...and 1 April 00:30 in Berlin is the second, though it is 31 March 22:30 in UTC.
    feedback(db, 0, datetime(2026, 4, 1, 0, 30, tzinfo=berlin), cid)
    with db.read() as s:
        trend = nps_by_quarter(s, start=date(2026, 1, 1), end=date(2026, 9, 30), tz=berlin)
        in_utc = nps_by_quarter(s, start=date(2026, 1, 1), end=date(2026, 9, 30), tz=UTC)
    assert [(q.label, f.score) for q, f in trend] == [("Q1 2026", 100), ("Q2 2026", -100), ("Q3 2026", None)]
    assert [(q.label, f.answers) for q, f in in_utc] == [("Q1 2026", 2), ("Q2 2026", 0), ("Q3 2026", 0)]


def test_period_edges_are_whole_local_days() -> None:
    assert [q.label for q in quarters(date(2025, 12, 31), date(2026, 1, 1))] == ["Q4 2025", "Q1 2026"]
    assert Quarter(2024, 1).last_day == date(2024, 3, 31) and Quarter(2024, 4).last_day == date(2024, 12, 31)


# --- promises kept on time ----------------------------------------------------------------------


def promise(
    db: Database,
    cid: uuid.UUID,
    due: str | None,
    status: str = "open",
    done: datetime | None = None,
    direction: str = "we",
) -> uuid.UUID:
    with db.write() as s:
        pid = commitments.add_commitment(s, CommitmentInput("x", direction, due, contact_id=cid))
        if status != "open":
            commitments.set_status(s, pid, status, done)
    return pid


def test_cancelled_and_undated_promises(db: Database) -> None:
    cid = contact(db, "Ann")
    promise(db, cid, "2026-06-01", "done", at(date(2026, 6, 1)))  # on time
    promise(db, cid, "2026-06-01", "cancelled")  # neither kept nor broken
    promise(db, cid, None, "done", at(date(2026, 6, 3)))  # undated, done: kept
    promise(db, cid, None)  # undated, open: undecided
    promise(db, cid, "2026-06-20")  # not yet due: undecided
    promise(db, cid, "2026-06-10")  # overdue
    with db.read() as s:
        rate = commitments.kept_rate(s, TODAY, contact_id=cid, tz=UTC)
    assert (rate.kept_on_time, rate.done_late, rate.open_overdue, rate.cancelled) == (2, 0, 1, 1)
    assert rate.rate == pytest.approx(2 / 3) and rate.text == "67% kept on time (2 of 3)"


def test_kept_rate_over_a_period_counts_by_due_date_with_both_edges_included(db: Database) -> None:
    cid = contact(db, "Ann")
    promise(db, cid, "2026-05-31", "done", at(date(2026, 5, 31)))  # just before
    promise(db, cid, "2026-06-01", "done", at(date(2026, 6, 2)))  # first day, late
    promise(db, cid, "2026-06-10", "done", at(date(2026, 6, 10)))  # last day, on time
    promise(db, cid, "2026-06-11")  # just after
    promise(db, cid, None, "done", at(date(2026, 6, 5)))  # undated: by the day it was done
    with db.read() as s:
        rate = commitments.kept_rate(s, TODAY, start=date(2026, 6, 1), end=date(2026, 6, 10), tz=UTC)
        everything = commitments.kept_rate(s, TODAY, tz=UTC)
    assert (rate.kept_on_time, rate.done_late, rate.open_overdue) == (2, 1, 0)
    assert (everything.kept_on_time, everything.done_late, everything.open_overdue) == (3, 1, 1)


def test_done_late_in_the_evening_is_judged_by_the_local_day(db: Database) -> None:
    new_york = ZoneInfo("America/New_York")
    cid = contact(db, "Ann")
    # Done at 21:00 on the due day in New York: 01:00 UTC the next day, still on time.
    promise(db, cid, "2026-06-01", "done", datetime(2026, 6, 1, 21, tzinfo=new_york))
    with db.read() as s:
        local = commitments.kept_rate(s, TODAY, tz=new_york)
        utc = commitments.kept_rate(s, TODAY, tz=UTC)
    assert (local.kept_on_time, local.done_late) == (1, 0)
    assert (utc.kept_on_time, utc.done_late) == (0, 1)


def test_kept_by_month_groups_by_due_month(db: Database) -> None:
    cid = contact(db, "Ann")
    promise(db, cid, "2026-04-30", "done", at(date(2026, 4, 30)))
    promise(db, cid, "2026-05-01", "done", at(date(2026, 5, 9)))
    with db.read() as s:
        trend = commitments.kept_by_month(s, TODAY, 3, tz=UTC)
    assert [(m.label, r.kept_on_time, r.done_late) for m, r in trend] == [
        ("Apr 2026", 1, 0),
        ("May 2026", 0, 1),
        ("Jun 2026", 0, 0),
    ]


# --- health -------------------------------------------------------------------------------------


def test_health_reasons_for_each_factor() -> None:
    fine = score_contact(ContactFacts(30, None, 10, touches=3))
    assert fine.score == 100 and fine.band == "good" and not fine.neglected
    assert fine.text == "100/100 (good): last contact 10 days ago, cadence 30"
    past_ideal = score_contact(ContactFacts(30, None, 45, touches=3))
    assert (past_ideal.score, past_ideal.reasons[0].text) == (80, "no contact for 45 days, cadence 30")
    assert past_ideal.neglected
    past_max = score_contact(ContactFacts(30, None, 64, touches=3))
    assert past_max.reasons[0].text == "no contact for 64 days, cadence 30 (losing touch after 60)"
    assert past_max.score == 60
    own_max = score_contact(ContactFacts(30, 50, 55, touches=3))
    assert own_max.score == 60
    never = score_contact(ContactFacts(30, None, None))
    assert never.reasons[0].text == "never contacted, cadence 30" and never.score == 60
    promises = score_contact(ContactFacts(None, None, 5, overdue_promises=2, late_promises=1, touches=1))
    assert [r.text for r in promises.reasons[1:]] == [
        "2 overdue promises to them",
        "1 promise kept late in the last year",
    ]
    assert promises.score == 75
    capped = score_contact(ContactFacts(None, None, 5, overdue_promises=5, late_promises=2, touches=1))
    assert capped.score == 70
    detractor = score_contact(ContactFacts(None, None, 5, last_score=5, touches=1))
    assert "last score 5/10 (detractor)" in detractor.text and detractor.score == 75
    passive = score_contact(ContactFacts(None, None, 5, last_score=8, touches=1))
    assert passive.score == 90
    promoter = score_contact(ContactFacts(None, None, 5, last_score=9, touches=1))
    assert promoter.score == 100 and "last score 9/10 (promoter)" in promoter.text
    rare = score_contact(ContactFacts(14, None, 10, touches=2))
    assert "2 touches in 90 days, about 6 expected" in rare.text and rare.score == 90
    silent = score_contact(ContactFacts(None, None, 120, touches=0))
    assert "no touch in 90 days" in silent.text and silent.neglected


def test_health_from_the_database_sees_every_factor(db: Database) -> None:
    now = datetime.combine(TODAY, time(9), tzinfo=UTC)
    cid = contact(db, "Ann", cadence_days=30)
    with db.write() as s:
        notes.add_note(s, notes.NoteInput("hi", contact_id=cid, occurred_at=now - timedelta(days=64)))
    promise(db, cid, "2026-06-01")
    promise(db, cid, "2026-06-02")
    promise(db, cid, "2026-06-02", direction="they")
    feedback(db, 5, now - timedelta(days=70), cid)
    with db.read() as s:
        health = contact_health(s, cid, TODAY, tz=UTC)
    assert [r.text for r in health.reasons] == [
        "no contact for 64 days, cadence 30 (losing touch after 60)",
        "2 overdue promises to them",
        "last score 5/10 (detractor)",
        "1 touch in 90 days, about 3 expected",
    ]
    assert health.score == 100 - 40 - 20 - 25 - 10 and health.band == "at risk"


def test_health_reads_the_cadence_today_reads_the_tier_or_kind_default(db: Database) -> None:
    """No cadence of their own: the account tier's default, else the kind's (as Today has it)."""
    from models.services.cadence import Cadence, CadenceDefaults, save_defaults

    now = datetime.combine(TODAY, time(9), tzinfo=UTC)
    with db.write() as s:
        acc = accounts.create_account(s, AccountInput("Nordwind", tier="A"))
        save_defaults(s, CadenceDefaults(kinds={"customer": Cadence(30, 90)}, tiers={"A": Cadence(14, None)}))
    ann = contact(db, "Ann")
    bea = contact(db, "Bea")
    with db.write() as s:
        contacts.update_contact(s, bea, ContactInput("Bea", account_id=acc))
        for cid in (ann, bea):
            notes.add_note(s, notes.NoteInput("hi", contact_id=cid, occurred_at=now - timedelta(days=40)))
    with db.read() as s:
        said = {cid: [r.text for r in contact_health(s, cid, TODAY, tz=UTC).reasons] for cid in (ann, bea)}
    assert said[ann][0] == "no contact for 40 days, cadence 30"
    assert said[bea][0] == "no contact for 40 days, cadence 14"  # the tier sets no maximum: the kind's 90


def test_account_health_weighs_decision_makers_double_and_names_who_is_at_risk() -> None:
    good = Health(100, ())
    bad = Health(40, (), neglected=True)
    health = score_account([Member("Ann", "decision_maker", good), Member("Bob", "user", bad)], own_overdue=1)
    assert health.score == 80 - 10
    assert [r.text for r in health.reasons] == [
        "average of 2 people (decision makers and champions count double)",
        "1 of 2 at risk: Bob 40",
        "1 of 2 neglected",
        "1 overdue promise to the account",
    ]
    assert score_account([], 0).score is None


# --- stakeholder map and touches ----------------------------------------------------------------


def test_stakeholder_map_groups_by_role_then_kind(db: Database) -> None:
    acme = account(db)
    now = datetime.combine(TODAY, time(9), tzinfo=UTC)
    dm = contact(db, "Dora", account_id=acme, stake_role="decision_maker", cadence_days=30)
    contact(db, "Carl", account_id=acme)  # a customer with no role said
    contact(db, "Pia", account_id=acme, kind="partner", stake_role="influencer")  # by kind
    contact(db, "Sam", account_id=acme, kind="supplier")
    contact(db, "Uma", account_id=acme, stake_role="user")
    contact(db, "Elsewhere", stake_role="decision_maker")
    with db.write() as s:
        notes.add_note(s, notes.NoteInput("hi", contact_id=dm, occurred_at=now - timedelta(days=40)))
    with db.read() as s:
        groups = stakeholder_map(s, acme, TODAY, tz=UTC)
        with_acme = account_health(s, acme, TODAY, tz=UTC)
    assert [(g.title, [p.name for p in g.people]) for g in groups] == [
        ("Decision makers", ["Dora"]),
        ("Users", ["Uma"]),
        ("Customers, no role said", ["Carl"]),
        ("Partners", ["Pia"]),
        ("Suppliers", ["Sam"]),
    ]
    dora = groups[0].people[0]
    assert dora.days_since_contact == 40 and dora.health.neglected and groups[0].neglected == 1
    assert with_acme.score is not None and "5 people" in with_acme.reasons[0].text


def test_touches_by_month_count_the_accounts_and_its_peoples_notes(db: Database) -> None:
    acme = account(db)
    ann = contact(db, "Ann", account_id=acme)
    with db.write() as s:
        for day in (date(2026, 5, 31), date(2026, 6, 1), date(2026, 6, 14)):
            notes.add_note(s, notes.NoteInput("hi", contact_id=ann, occurred_at=at(day)))
        notes.add_note(s, notes.NoteInput("own", account_id=acme, occurred_at=at(date(2026, 4, 2))))
    with db.read() as s:
        trend = touches_by_month(s, TODAY, acme, 3, tz=UTC)
    assert [(m.label, n) for m, n in trend] == [("Apr 2026", 1), ("May 2026", 1), ("Jun 2026", 2)]


def test_the_bulk_score_is_the_score_with_reasons_for_every_combination_of_facts() -> None:
    combos = itertools.product(
        (None, 7, 14, 30, 90),  # cadence
        (None, 10, 45),  # own maximum
        (None, 0, 8, 20, 40, 100),  # days since contact
        (0, 1, 4),  # overdue promises
        (0, 1, 3),  # late promises
        (None, 3, 7, 10),  # last score
        (0, 1, 5),  # touches in 90 days
    )
    for facts in combos:
        f = ContactFacts(*facts)
        assert score_only(f) == score_contact(f).score, f


def test_todays_recent_rate_counts_the_last_90_days_today_included(db: Database) -> None:
    cid = contact(db, "Ann")
    promise(db, cid, "2026-03-17", "done", at(date(2026, 3, 20)))  # 91 days back: out
    promise(db, cid, "2026-03-18", "done", at(date(2026, 3, 18)))  # 90th day back: in
    promise(db, cid, "2026-06-14")  # overdue
    with db.read() as s:
        rate = commitments.kept_rate_recent(s, TODAY, tz=UTC)
    assert (rate.kept_on_time, rate.done_late, rate.open_overdue) == (1, 0, 1)


def test_the_months_agree_with_the_period_ending_today(db: Database) -> None:
    cid = contact(db, "Ann")
    promise(db, cid, "2026-06-10", "done", at(date(2026, 6, 9)))
    promise(db, cid, "2026-06-25", "done", at(date(2026, 6, 1)))  # done early, due after today
    with db.read() as s:
        (_month, june) = commitments.kept_by_month(s, TODAY, 1, tz=UTC)[0]
        period = commitments.kept_rate(s, TODAY, start=date(2026, 6, 1), end=TODAY, tz=UTC)
    assert june == period and june.kept_on_time == 1


def test_the_breakdown_agrees_with_nps_per_kind_and_quarter(db: Database) -> None:
    acme = account(db)
    ann, pia = contact(db, "Ann"), contact(db, "Pia", kind="partner")
    for score, day, who in (
        (10, date(2026, 1, 5), ann),
        (3, date(2026, 4, 1), pia),
        (8, date(2026, 5, 1), ann),
    ):
        feedback(db, score, at(day), who)
    feedback(db, 9, at(date(2026, 2, 1)), account_id=acme)  # the account's own: counts for no kind
    start, end = date(2026, 1, 1), date(2026, 6, 30)
    with db.read() as s:
        parts = nps_breakdown(s, start=start, end=end, tz=UTC)
        assert parts.overall == nps(s, start=start, end=end, tz=UTC)
        assert list(parts.by_quarter) == nps_by_quarter(s, start=start, end=end, tz=UTC)
        for kind, figure in parts.by_kind:
            assert figure == nps(s, start=start, end=end, kind=kind, tz=UTC), kind
    assert dict(parts.by_kind)["customer"].answers == 2 and parts.overall.answers == 4
