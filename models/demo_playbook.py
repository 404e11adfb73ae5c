"""The playbook part of the sample and demo data (issue 12): stake roles, maximum cadences,
referrals and personal dates on contacts; commitments made from notes and from detractors'
feedback; recent purchases and feedback; thank-yous; snoozed Today items.

It draws from a random generator of its own, so the rows ``models/demo.py`` made before (names,
notes, visits: what the screenshot and the benchmarks show) stay exactly the same for a seed.
Proportions follow a rep's year: a thank-you for most purchases but not all (some are owed),
half the detractors called back (the other half are on Today), a few items snoozed.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from models.entities import StakeRole, ThanksKind

ROLE_WEIGHTS = [
    (StakeRole.NONE.value, 40),
    (StakeRole.DECISION_MAKER.value, 12),
    (StakeRole.INFLUENCER.value, 15),
    (StakeRole.CHAMPION.value, 10),
    (StakeRole.USER.value, 15),
    (StakeRole.GATEKEEPER.value, 8),
]
PERSONAL = ["Work anniversary", "Wedding anniversary", "Company founded", "Name day"]
THANKS_FOR_PURCHASE = [
    "Thank-you card for the order",
    "Called to thank them for the order",
    "Sent a box of pralines",
    "Invited to the spring tasting",
]
THANKS_OTHER = ["Invited to the customer evening", "Christmas card", "Lunch to say thanks for the year"]
CALL_BACK = "Call back about their feedback"
DETRACTOR = 6  # 0-6: a detractor (NPS)


def _id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _forget(recorded: list[dict[str, Any]], row: dict[str, Any]) -> None:
    if recorded and recorded[-1] is row:
        recorded.pop()


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), UTC)


@dataclass
class Playbook:
    rng: random.Random
    now: datetime
    contact_ids: list[uuid.UUID]
    contact_account: list[uuid.UUID | None]
    base: dict[str, Any]
    first_note: dict[int, uuid.UUID] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)
    referrals: list[tuple[int, int]] = field(default_factory=list)  # (referred, referrer)
    kept: list[dict[str, Any]] = field(default_factory=list)  # commitments they kept
    detractors: list[dict[str, Any]] = field(default_factory=list)
    purchases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.now.date()

    def _owner(self, ci: int) -> dict[str, Any]:
        return {"contact_id": self.contact_ids[ci], "account_id": self.contact_account[ci]}

    # -- columns added to the rows models/demo.py makes ------------------------------------
    def contact(self, i: int, row: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        customer = row["kind"] == "customer" and row["account_id"] is not None
        roles, weights = zip(*ROLE_WEIGHTS, strict=True)
        row["stake_role"] = rng.choices(roles, weights)[0] if customer else ""
        cadence = row["cadence_days"]
        row["cadence_max_days"] = cadence * 2 if cadence and rng.random() < 0.6 else None
        referrer = rng.randrange(i) if i > 0 and rng.random() < 0.06 else None
        row["referred_by_id"] = None if referrer is None else self.contact_ids[referrer]
        if referrer is not None:
            self.referrals.append((i, referrer))
        if rng.random() < 0.15:
            since = date(rng.randint(2005, 2022), 1, 1) + timedelta(days=rng.randint(0, 364))
            row["personal_dates"] = [{"label": rng.choice(PERSONAL), "date": since.isoformat()}]
        self.kinds.append(row["kind"])
        return row

    def note(self, i: int, ci: int, row: dict[str, Any]) -> dict[str, Any]:
        if i == ci:  # the first note of each contact is the one promises are made from
            self.first_note[ci] = row["id"]
        return row

    def commitment(self, ci: int, row: dict[str, Any]) -> dict[str, Any]:
        made_in = self.first_note.get(ci)
        row["note_id"] = made_in if made_in is not None and self.rng.random() < 0.25 else None
        row["feedback_id"] = None
        if row["direction"] == "they" and row["status"] == "done":
            self.kept.append(row)
        return row

    def feedback(self, row: dict[str, Any]) -> dict[str, Any]:
        if row["score"] is not None and row["score"] <= DETRACTOR:
            self.detractors.append(row)
        return row

    def purchase(self, row: dict[str, Any]) -> dict[str, Any]:
        self.purchases.append(row)
        return row

    # -- rows of their own --------------------------------------------------------------------
    def recent_purchase(self, template: dict[str, Any]) -> dict[str, Any]:
        """A purchase of the last 40 days: the 7- and 30-day follow-ups fall due among them."""
        _forget(self.purchases, template)  # made by demo.py's purchase(), never inserted as it was
        row = {
            **template,
            "id": _id(self.rng),
            "purchased_on": self.today - timedelta(days=self.rng.randint(0, 40)),
        }
        return self.purchase(row)

    def recent_feedback(self, template: dict[str, Any]) -> dict[str, Any]:
        _forget(self.detractors, template)
        when = self.now - timedelta(days=self.rng.randint(0, 30), minutes=self.rng.randint(0, 600))
        return self.feedback({**template, "id": _id(self.rng), "received_at": when})

    def call_backs(self) -> list[dict[str, Any]]:
        """Half the detractors got a follow-up promise (feedback_id); the rest wait on Today."""
        out = []
        for fb in self.detractors:
            if self.rng.random() >= 0.5:
                continue
            due = fb["received_at"].date() + timedelta(days=7)
            done = due < self.today - timedelta(days=3)
            comment = fb["comment"].rstrip(".")
            out.append(
                {
                    **self.base,
                    "id": _id(self.rng),
                    "direction": "we",
                    "what": f"{CALL_BACK}: {comment}" if comment else f"{CALL_BACK} (score {fb['score']})",
                    "due_date": due,
                    "status": "done" if done else "open",
                    "done_at": _at(due - timedelta(days=self.rng.randint(0, 5))) if done else None,
                    "contact_id": fb["contact_id"],
                    "account_id": fb["account_id"],
                    "note_id": None,
                    "feedback_id": fb["id"],
                }
            )
        return out

    def _thanks(
        self, when: datetime, reason: str, reason_id: uuid.UUID | None, summary: str, **owner: Any
    ) -> dict[str, Any]:
        return {
            **self.base,
            "id": _id(self.rng),
            "given_at": min(when, self.now),
            "kind": self.rng.choice([k.value for k in ThanksKind]),
            "reason": reason,
            "reason_id": reason_id,
            "summary": summary,
            **owner,
        }

    def thank_yous(self) -> list[dict[str, Any]]:
        rng, out = self.rng, []
        for p in self.purchases:
            recent = (self.today - p["purchased_on"]).days <= 14
            if rng.random() < (0.3 if recent else 0.45):  # the rest are owed, or long forgotten
                when = _at(p["purchased_on"] + timedelta(days=rng.randint(1, 5)))
                owner = {"contact_id": p["contact_id"], "account_id": p["account_id"]}
                out.append(self._thanks(when, "purchase", p["id"], rng.choice(THANKS_FOR_PURCHASE), **owner))
        for referred, referrer in self.referrals:
            if rng.random() < 0.5:
                when = self.now - timedelta(days=rng.randint(1, 300))
                out.append(
                    self._thanks(
                        when,
                        "referral",
                        self.contact_ids[referred],
                        "Thanks for the introduction",
                        **self._owner(referrer),
                    )
                )
        for c in self.kept:
            if rng.random() < 0.25 and c["done_at"] is not None:
                owner = {"contact_id": c["contact_id"], "account_id": c["account_id"]}
                when = min(c["done_at"] + timedelta(days=1), self.now)
                out.append(self._thanks(when, "commitment", c["id"], f"Thanks for: {c['what']}", **owner))
        for _ in range(len(self.contact_ids) // 50):
            ci = rng.randrange(len(self.contact_ids))
            when = self.now - timedelta(days=rng.randint(1, 400))
            out.append(self._thanks(when, "other", None, rng.choice(THANKS_OTHER), **self._owner(ci)))
        return out

    def snoozes(self) -> list[dict[str, Any]]:
        """A few check-ins put off for some days, and a few purchases' thank-yous dismissed."""
        rng, out = self.rng, []
        for _ in range(max(2, len(self.contact_ids) // 100)):
            ci = rng.randrange(len(self.contact_ids))
            out.append(
                {
                    **self.base,
                    "id": _id(rng),
                    "item": f"checkin:{self.contact_ids[ci]}",
                    "until": self.today + timedelta(days=rng.randint(1, 10)),
                    **self._owner(ci),
                }
            )
        for p in rng.sample(self.purchases, min(len(self.purchases), max(1, len(self.contact_ids) // 200))):
            out.append(
                {
                    **self.base,
                    "id": _id(rng),
                    "item": f"thanks:{p['id']}",
                    "until": None,
                    "contact_id": p["contact_id"],
                    "account_id": p["account_id"],
                }
            )
        return out
