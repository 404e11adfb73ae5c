"""The account page's health, trust, NPS, stakeholder map and charts, on real widgets."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from models.db import Database
from models.entities import Feedback
from models.services import accounts, commitments, contacts, notes
from models.services.accounts import AccountInput
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from tests.support.gui_helpers import WAIT
from ui.accounts_view import AccountsView
from ui.contact_detail import ContactDetailPane
from ui.context import AppContext


def seed(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    now = datetime.now(UTC)
    with db.write() as s:
        acc = accounts.create_account(s, AccountInput("Nordwind GmbH"))
        dora = contacts.create_contact(
            s, ContactInput("Dora Decider", account_id=acc, stake_role="decision_maker", cadence_days="30")
        )
        contacts.create_contact(s, ContactInput("Carl Customer", account_id=acc))
        pia = contacts.create_contact(s, ContactInput("Pia Partner", account_id=acc, kind="partner"))
        notes.add_note(s, NoteInput("Lunch", contact_id=dora, occurred_at=now - timedelta(days=64)))
        notes.add_note(s, NoteInput("Call", contact_id=pia, occurred_at=now - timedelta(days=2)))
        late = (date.today() - timedelta(days=3)).isoformat()
        commitments.add_commitment(s, CommitmentInput("Send the quote", contact_id=dora, due_date=late))
        # Before the notes: feedback is a touch too (migration 0007), and these people's last
        # contact is the notes'.
        s.add(Feedback(score=10, received_at=now - timedelta(days=70), contact_id=pia))
        s.add(Feedback(score=4, received_at=now - timedelta(days=70), contact_id=dora))
    return acc, dora


def test_account_page_shows_health_trust_map_and_charts_with_their_words(
    qtbot: QtBot, ctx: AppContext, db: Database
) -> None:
    acc, dora = seed(db)
    view = AccountsView(ctx)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    view.show_account(acc)
    qtbot.waitUntil(lambda: view.page is not None, timeout=WAIT)

    said = view.insight.text()
    assert "Health" in said and "2 of 3 neglected" in said
    assert "0% kept on time (0 of 1)" in said
    assert "NPS +0 (2 answers: 1 promoter, 0 passives, 1 detractor)" in said

    tree = view.map
    groups = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert groups == [
        "Decision makers (1, 1 neglected)",
        "Customers, no role said (1, 1 neglected)",
        "Partners (1)",
    ]
    dora_item = tree.topLevelItem(0).child(0)
    assert dora_item.text(0) == "⚠ Dora Decider"
    assert dora_item.data(0, Qt.ItemDataRole.UserRole) == dora
    assert dora_item.text(3) == "64 days ago"
    assert "no contact for 64 days, cadence 30 (losing touch after 60)" in dora_item.text(4)
    assert "1 overdue promise to them" in dora_item.toolTip(2)
    assert view.map_summary.text() == (
        "3 people (decision makers 1, customers, no role said 1, partners 1)."
        " Neglected: Dora Decider, Carl Customer."
    )

    with qtbot.waitSignal(view.contact_open_requested, timeout=WAIT) as opened:
        view.tabs.setCurrentIndex(0)
        tree.setFocus()
        tree.setCurrentItem(dora_item)
        qtbot.keyClick(tree, Qt.Key.Key_Return)  # the keyboard opens the person
    assert opened.args == [dora]

    charts = view.charts
    for panel in (charts.nps, charts.touches, charts.kept):
        assert panel.chart.bars, panel.chart.objectName()
        assert panel.chart.accessibleName() and panel.summary.text()
        assert panel.chart.accessibleDescription() and panel.chart.toolTip()
    assert charts.nps.summary.text().startswith("NPS by quarter:")
    assert "+0" in charts.nps.summary.text()
    assert charts.touches.summary.text().startswith("2 touches in 12 months")
    assert charts.kept.summary.text().startswith("0% of our promises kept on time over 12 months (0 of 1)")
    view.tabs.setCurrentWidget(charts)
    charts.nps.chart.grab()  # paints without a warning in either appearance

    view.show_account(None)
    assert tree.topLevelItemCount() == 0 and view.insight.text() == ""


def test_the_contact_page_shows_their_health_with_its_reasons(
    qtbot: QtBot, ctx: AppContext, db: Database
) -> None:
    _acc, dora = seed(db)
    detail = ContactDetailPane(ctx)
    qtbot.addWidget(detail)
    with qtbot.waitSignal(detail.loaded, timeout=WAIT):
        detail.show_contact(dora)
    said = detail.profile.text()
    assert "Health <span" in said and "/100 (at risk)" in said
    assert "no contact for 64 days, cadence 30 (losing touch after 60) (−40)" in said
    assert "last score 4/10 (detractor) (−25)" in said
