"""The Satisfaction and trust dialog: the rep's NPS, promises kept and health over a period."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from PySide6.QtCore import QDate
from pytestqt.qtbot import QtBot

from models.db import Database
from models.entities import Feedback
from models.services import commitments, contacts
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.insights import period_choices
from tests.support.gui_helpers import WAIT
from ui.context import AppContext
from ui.insights_view import CUSTOM, InsightsDialog

TODAY = date(2026, 5, 20)


def test_period_choices_are_whole_local_periods() -> None:
    assert period_choices(TODAY) == [
        ("Last 12 months", date(2025, 6, 1), TODAY),
        ("This quarter", date(2026, 4, 1), TODAY),
        ("Last quarter (Q1 2026)", date(2026, 1, 1), date(2026, 3, 31)),
        ("This year (2026)", date(2026, 1, 1), TODAY),
        ("Last year (2025)", date(2025, 1, 1), date(2025, 12, 31)),
    ]


def seed(db: Database) -> None:
    def at(day: date) -> datetime:
        return datetime.combine(day, time(12), tzinfo=UTC)

    with db.write() as s:
        ann = contacts.create_contact(s, ContactInput("Ann", cadence_days="30"))
        pia = contacts.create_contact(s, ContactInput("Pia", kind="partner"))
        s.add(Feedback(score=10, received_at=at(date(2026, 2, 1)), contact_id=ann))
        s.add(Feedback(score=9, received_at=at(date(2026, 5, 2)), contact_id=ann))
        s.add(Feedback(score=2, received_at=at(date(2026, 5, 3)), contact_id=pia))
        s.add(Feedback(score=3, received_at=at(date(2025, 6, 3)), contact_id=pia))
        kept = commitments.add_commitment(s, CommitmentInput("Quote", contact_id=ann, due_date="2026-04-10"))
        commitments.set_status(s, kept, "done", at(date(2026, 4, 9)))
        commitments.add_commitment(s, CommitmentInput("Samples", contact_id=pia, due_date="2026-05-01"))
        gone = commitments.add_commitment(s, CommitmentInput("Visit", contact_id=pia, due_date="2026-04-20"))
        commitments.set_status(s, gone, "cancelled")


def test_the_dialog_shows_the_chosen_periods_figures_and_charts(
    qtbot: QtBot, ctx: AppContext, db: Database
) -> None:
    seed(db)
    dialog = InsightsDialog(ctx, today=TODAY)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.insights is not None and dialog.counts is not None, timeout=WAIT)
    said = dialog.figures.text()
    # Last 12 months: 10, 9, 2 (the 3 of June 2025 is in too: from 1 June 2025).
    assert "NPS +0 (4 answers: 2 promoters, 0 passives, 2 detractors)" in said
    assert "Customers: NPS +100 (2 answers" in said and "Partners: NPS -100 (2 answers" in said
    assert "50% kept on time (1 of 2), 1 cancelled (not counted); 1 still overdue" in said
    # Feedback is a touch (migration 0007): Ann, heard from 18 days ago with a cadence of 30, is
    # good; Pia, a detractor with an overdue promise, is to watch.
    assert "2 contacts: 1 good, 1 to watch, 0 at risk" in dialog.health.text()
    assert dialog.nps_chart.summary.text().startswith("NPS by quarter: Q2 2025 -100, Q3 2025 no answers")
    assert dialog.kept_chart.chart.accessibleDescription()

    dialog.insights = None
    dialog.period.setCurrentIndex(2)  # last quarter: only the 10 of February
    qtbot.waitUntil(lambda: dialog.insights is not None, timeout=WAIT)
    assert "NPS +100 (1 answer: 1 promoter, 0 passives, 0 detractors)" in dialog.figures.text()
    assert not dialog.start.isEnabled()

    dialog.period.setCurrentIndex(dialog.period.findText(CUSTOM))
    assert dialog.start.isEnabled() and dialog.end.isEnabled()
    qtbot.waitUntil(lambda: ctx.tasks.pending == 0, timeout=WAIT)
    dialog.insights = None
    dialog.start.setDate(QDate(2026, 5, 2))
    dialog.end.setDate(QDate(2026, 5, 2))
    qtbot.waitUntil(
        lambda: dialog.insights is not None and dialog.chosen() == (date(2026, 5, 2), date(2026, 5, 2)),
        timeout=WAIT,
    )
    qtbot.waitUntil(lambda: "1 answer" in dialog.figures.text(), timeout=WAIT)
    assert "NPS +100 (1 answer: 1 promoter" in dialog.figures.text()
