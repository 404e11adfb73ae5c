"""Accounts: the list, and an account's page with its people, commitments and timeline."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QItemSelection, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from models.errors import NotFoundError
from models.rows import AccountRow, CommitmentRow, ContactRow, NoteRow
from models.services import accounts, commitments, contacts, notes
from ui.account_insights import AccountCharts, AccountInsights, insights_html, load_account_insights
from ui.account_purchases import AccountPurchasesSection
from ui.context import AppContext, RefreshWhenShown
from ui.dialogs import CHANNEL_LABELS, AccountDialog, CommitmentDialog, ContactDialog, NoteDialog
from ui.stakeholder_map import StakeholderMap, map_summary
from ui.table import (
    Column,
    RowsModel,
    button_bar,
    commitment_columns,
    day_text,
    make_table,
    on_selection,
    selected_row,
)

LIST_LIMIT = 5000


@dataclass(frozen=True)
class AccountPage:
    account: AccountRow
    people: list[ContactRow]
    commitments: list[CommitmentRow]
    notes: list[NoteRow]
    insights: AccountInsights | None = None


def load_account_page(s: Session, account_id: uuid.UUID, today: date | None = None) -> AccountPage:
    today = today or date.today()
    return AccountPage(
        account=accounts.get_account(s, account_id),
        people=contacts.list_contacts(s, account_id=account_id, limit=500),
        commitments=commitments.list_commitments(s, account_id=account_id, limit=200),
        notes=notes.timeline(s, account_id=account_id, limit=200),
        insights=load_account_insights(s, account_id, today),
    )


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _things(notes_n: int, commitments_n: int) -> str:
    """'3 notes and 1 commitment', leaving out what there is none of."""
    parts = [
        _plural(n, one, many)
        for n, one, many in ((notes_n, "note", "notes"), (commitments_n, "commitment", "commitments"))
        if n
    ]
    return " and ".join(parts)


class AccountsView(QWidget):
    contact_open_requested = Signal(object)  # contact id
    delete_requested = Signal(object, str, bool)  # account id, name, its people go too
    print_requested = Signal(object)  # contact id: the briefing of one of the account's people

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.account_id: uuid.UUID | None = None
        self.page: AccountPage | None = None
        self.delete_box: QMessageBox | None = None  # the question asked before a delete
        self._today = date.today()
        self._gen = 0
        self.filter = QLineEdit()
        self.filter.setObjectName("account_filter")
        self.filter.setPlaceholderText("Find accounts…")
        self.filter.setClearButtonEnabled(True)
        self.list = RowsModel[AccountRow](
            [
                Column("Account", lambda r: r.name, width=220),
                Column("Segment", lambda r: r.segment, width=110),
                Column("Tier", lambda r: r.tier, width=50),
                Column("Contacts", lambda r: str(r.contact_count)),
            ],
            self,
        )
        self.table = make_table(self.list, name="accounts_table")
        # The name takes what the pane has left; the short columns stay whole beside it.
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.empty = QLabel("No accounts yet — add one with “New account”.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.new_button = QPushButton("New account…")
        self.new_button.clicked.connect(self.new_account)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.new_button)
        ll.addLayout(bar)
        ll.addWidget(self.table, 1)
        ll.addWidget(self.empty, 1)
        self.more = QLabel(f"Showing the first {LIST_LIMIT:,} accounts: type to narrow.")
        self.more.hide()
        ll.addWidget(self.more)

        self.profile = QLabel("Select an account.")
        self.profile.setWordWrap(True)
        self.profile.setTextFormat(Qt.TextFormat.RichText)
        self.profile.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.edit_button = QPushButton("Edit…")
        self.add_contact_button = QPushButton("Add contact…")
        self.note_button = QPushButton("Log note…")
        self.commit_button = QPushButton("Add commitment…")
        self.delete_button = QPushButton("Delete")
        self._page_buttons = (
            self.edit_button,
            self.add_contact_button,
            self.note_button,
            self.commit_button,
            self.delete_button,
        )
        for b in self._page_buttons:
            b.setEnabled(False)
        actions = button_bar(*self._page_buttons)
        self.edit_button.clicked.connect(self.edit)
        self.add_contact_button.clicked.connect(self.add_contact)
        self.note_button.clicked.connect(self.new_note)
        self.commit_button.clicked.connect(self.new_commitment)
        self.delete_button.clicked.connect(self.delete)
        self.people = RowsModel[ContactRow](
            [
                Column("Name", lambda r: r.name, width=180),
                Column("Role", lambda r: r.role, width=170),
                Column("Kind", lambda r: r.kind.capitalize()),
                Column("Phone", lambda r: r.phone),
            ],
            self,
        )
        self.people_view = make_table(self.people, name="account_people")
        self.people_view.doubleClicked.connect(self._open_person)
        self.owed = RowsModel(commitment_columns(lambda: self._today), self)
        self.owed_view = make_table(self.owed, name="account_commitments")
        self.timeline = RowsModel[NoteRow](
            [
                Column("When", lambda r: day_text(r.occurred_at), width=130),
                Column("Contact", lambda r: r.contact_name, width=150),
                Column("Channel", lambda r: CHANNEL_LABELS.get(r.channel, r.channel)),
                Column("Summary", lambda r: r.summary),
            ],
            self,
        )
        self.timeline_view = make_table(self.timeline, name="account_timeline")
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 0, 0, 0)
        rl.addWidget(self.profile)
        self.insight = QLabel("")  # health with its reasons, promises kept, NPS
        self.insight.setObjectName("account_insight")
        self.insight.setWordWrap(True)
        self.insight.setTextFormat(Qt.TextFormat.RichText)
        rl.addWidget(self.insight)
        rl.addWidget(actions)
        people_bar = QHBoxLayout()
        people_bar.addWidget(QLabel("<b>People</b> (double-click to open)"))
        people_bar.addStretch(1)
        self.print_person_button = QPushButton("Print briefing…")
        self.print_person_button.clicked.connect(self._print_person)
        on_selection(
            self.people_view,
            lambda: self.print_person_button.setEnabled(self._selected_person() is not None),
        )
        self.print_person_button.setEnabled(False)
        people_bar.addWidget(self.print_person_button)
        self.purchases = AccountPurchasesSection(ctx)  # what it bought, last order, 12 months
        self.tabs = self._build_tabs(people_bar)
        rl.addWidget(self.tabs, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("accounts_splitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 2)
        self._split_set = False  # first shown without saved sizes: see showEvent
        self._shown = False  # a page never shown has no widths worth saving
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(80)
        self._filter_timer.timeout.connect(self.reload)
        self.filter.textChanged.connect(lambda _t: self._filter_timer.start())
        self.refresher = RefreshWhenShown(self, self.reload)
        ctx.bus.changed.connect(self._on_data_changed)

    def _build_tabs(self, people_bar: QHBoxLayout) -> QTabWidget:
        """The stakeholder map, the plain list of people, the open commitments, the timeline
        and the charts, one tab each (Alt+the underlined letter): at 1280x720, with health and
        trust above them, the page had no room to show them all at once (it grew past the
        screen)."""
        tabs = QTabWidget()
        tabs.setObjectName("account_tabs")
        self.map = StakeholderMap()
        self.map.contact_open_requested.connect(self.contact_open_requested)
        self.map_summary = QLabel("")
        self.map_summary.setObjectName("stakeholder_summary")
        self.map_summary.setWordWrap(True)
        stakeholders = QWidget()
        sl = QVBoxLayout(stakeholders)
        sl.setContentsMargins(2, 2, 2, 2)
        sl.addWidget(self.map_summary)
        sl.addWidget(self.map, 1)
        tabs.addTab(stakeholders, "&Stakeholders")
        people = QWidget()
        pl = QVBoxLayout(people)
        pl.setContentsMargins(2, 2, 2, 2)
        pl.addLayout(people_bar)
        pl.addWidget(self.people_view, 1)
        tabs.addTab(people, "P&eople")
        tabs.addTab(self.owed_view, "Open &commitments")
        tabs.addTab(self.timeline_view, "&Timeline")
        self.charts = AccountCharts()
        tabs.addTab(self.charts, "C&harts")
        tabs.addTab(self.purchases, "P&urchases")
        return tabs

    def _count_tabs(self, owed: int, notes_n: int) -> None:
        self.tabs.setTabText(self.tabs.indexOf(self.owed_view), f"Open &commitments ({owed})")
        self.tabs.setTabText(self.tabs.indexOf(self.timeline_view), f"&Timeline ({notes_n})")

    def _show_insights(self, insights: AccountInsights | None) -> None:
        self.insight.setText(insights_html(insights) if insights is not None else "")
        self.map.show_groups(insights.groups if insights is not None else [])
        self.map_summary.setText(map_summary(insights.groups) if insights is not None else "")
        self.charts.show_trends(insights.trends if insights is not None else None)

    def reload(self) -> None:
        self._gen += 1
        gen, search = self._gen, self.filter.text()

        def done(rows: list[AccountRow]) -> None:
            if gen != self._gen:
                return
            self.list.set_rows(rows)
            has_any = bool(rows) or bool(search.strip())
            self.table.setVisible(has_any)
            self.empty.setVisible(not has_any)
            self.more.setVisible(len(rows) >= LIST_LIMIT)
            row = next((i for i, r in enumerate(rows) if r.id == self.account_id), -1)
            if row >= 0:
                self.table.selectRow(row)
            elif self.account_id is not None:
                self.show_account(None)

        self.ctx.query(lambda s: accounts.list_accounts(s, search, limit=LIST_LIMIT), done)

    def _on_data_changed(self, entities: set[str]) -> None:
        if entities & {"account", "contact"}:
            self.refresher.request()
        elif self.account_id is not None and entities & {"note", "commitment", "feedback"}:
            self.show_account(self.account_id)

    def _on_selection(self, selected: QItemSelection, _old: QItemSelection) -> None:
        rows = selected.indexes()
        row = self.list.row_at(rows[0].row()) if rows else None
        if row is not None:
            self.show_account(row.id)

    def show_account(self, account_id: uuid.UUID | None) -> None:
        self._gen += 1
        self.account_id = account_id
        self.purchases.show_account(account_id)
        for b in self._page_buttons:
            b.setEnabled(account_id is not None)
        if account_id is None:
            self.page = None
            self.profile.setText("Select an account.")
            for m in (self.people, self.owed, self.timeline):
                m.set_rows([])
            self._show_insights(None)
            return
        gen = self._gen

        def done(page: AccountPage) -> None:
            if gen != self._gen:
                return
            self.page = page
            self._today = date.today()
            a, esc = page.account, html.escape
            facts = " · ".join(esc(x) for x in (a.segment, a.tier and f"Tier {a.tier}") if x)
            text = f"<h2 style='margin:0'>{esc(a.name)}</h2><p>{facts}</p>"
            if a.address:
                text += f"<p>{esc(a.address)}</p>"
            if a.about:
                text += f"<p>{esc(a.about)}</p>"
            self.profile.setText(text)
            self.people.set_rows(page.people)
            self.owed.set_rows(page.commitments)
            self.timeline.set_rows(page.notes)
            self._count_tabs(len(page.commitments), len(page.notes))
            self._show_insights(page.insights)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, NotFoundError):
                self.show_account(None)
            else:
                self.ctx.presenter.present(exc)

        today = date.today()
        self.ctx.query(lambda s: load_account_page(s, account_id, today), done, failed)

    def select_account(self, account_id: uuid.UUID, name: str) -> None:
        """Show the account's page and list it, found by its name (from a search)."""
        self.filter.blockSignals(True)
        self.filter.setText(name)
        self.filter.blockSignals(False)
        self.show_account(account_id)
        self.reload()  # selects it in the list once there

    def _selected_person(self) -> ContactRow | None:
        return selected_row(self.people_view, self.people)

    def _print_person(self) -> None:
        row = self._selected_person()
        if row:
            self.print_requested.emit(row.id)

    def _open_person(self) -> None:
        index = self.people_view.currentIndex()
        row = self.people.row_at(index.row()) if index.isValid() else None
        if row:
            self.contact_open_requested.emit(row.id)

    def new_account(self) -> None:
        AccountDialog(self.ctx, parent=self).open()

    def edit(self) -> None:
        if self.page:
            AccountDialog(self.ctx, self.page.account, self).open()

    def add_contact(self) -> None:
        if self.account_id:
            ContactDialog(self.ctx, parent=self, account_id=self.account_id).open()

    def new_note(self) -> None:
        if self.account_id:
            NoteDialog(self.ctx, account_id=self.account_id, parent=self).open()

    def new_commitment(self) -> None:
        if self.account_id:
            CommitmentDialog(self.ctx, account_id=self.account_id, parent=self).open()

    def delete(self) -> None:
        """Say what deleting the account takes with it; with people at it, let the rep choose."""
        if not self.page:
            return
        account_id = self.page.account.id
        self.ctx.query(
            lambda s: accounts.account_impact(s, account_id), lambda impact: self._ask(account_id, impact)
        )

    def _ask(self, account_id: uuid.UUID, impact: accounts.AccountImpact) -> None:
        own = _things(impact.own_notes, impact.own_commitments)
        if impact.people == 0:
            self.delete_requested.emit(account_id, impact.name, False)
            return
        history = _things(impact.people_notes, impact.people_commitments)
        people = _plural(impact.people, "person", "people")
        text = f"<p><b>Delete the account “{html.escape(impact.name)}”?</b></p>"
        text += f"<p>{people.capitalize()} work there" + (f", with {history} between them" if history else "")
        text += (
            ".</p><p><b>Keep the people</b>: they stay, with all their notes and commitments, no"
            " longer at any account.<br><b>Delete the people too</b>: they and their history go to"
            " the Trash with the account.</p>"
        )
        if own:
            text += f"<p>The account's own {own} go to the Trash either way.</p>"
        text += "<p>You can undo this, or restore it from the Trash.</p>"
        box = QMessageBox(QMessageBox.Icon.Question, "Delete account", text, parent=self)
        box.setObjectName("delete_account_box")
        box.setTextFormat(Qt.TextFormat.RichText)
        keep = box.addButton("Keep the people", QMessageBox.ButtonRole.AcceptRole)
        also = box.addButton("Delete the people too", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen(button: object) -> None:
            if button in (keep, also):
                self.delete_requested.emit(account_id, impact.name, button is also)

        box.buttonClicked.connect(chosen)
        self.delete_box = box
        box.open()

    def save_state(self, settings: QSettings) -> None:
        if not self._shown:
            # Never laid out: its sizes are placeholders that would squeeze the list next time.
            return
        settings.setValue("accounts/header", self.table.horizontalHeader().saveState())
        settings.setValue("accounts/splitter", self.splitter.saveState())

    def restore_state(self, settings: QSettings) -> None:
        for key, widget in (
            ("accounts/header", self.table.horizontalHeader()),
            ("accounts/splitter", self.splitter),
        ):
            value = settings.value(key)
            if value is not None:
                widget.restoreState(value)
                self._split_set = self._split_set or widget is self.splitter

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._shown = True
        if not self._split_set:
            # Left to its size hint the list was too narrow to read the account names.
            self._split_set = True
            width = self.splitter.width()
            self.splitter.setSizes([width * 2 // 5, width - width * 2 // 5])
