"""The contact's page: who they are, what is owed both ways, and the interaction timeline."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from models.entities import Contact
from models.errors import NotFoundError
from models.rows import CommitmentRow, ContactDetail, KeptRate, NoteRow
from models.services import commitments, contacts, notes
from models.values import described
from ui.appearance import colour
from ui.context import AppContext
from ui.dialogs import CHANNEL_LABELS, KIND_LABELS, CommitmentDialog, ContactDialog, NoteDialog
from ui.field_editors import choice_label
from ui.plural import days_ago, in_days, plural
from ui.table import (
    Column,
    RowsModel,
    button_bar,
    commitment_columns,
    day_text,
    make_table,
    on_selection,
    refill,
    selected_row,
)

TIMELINE_LIMIT = 1000


@dataclass(frozen=True)
class ContactPage:
    detail: ContactDetail
    commitments: list[CommitmentRow]
    notes: list[NoteRow]
    kept: KeptRate


def load_page(s: Session, contact_id: uuid.UUID) -> ContactPage:
    today = date.today()
    detail = contacts.get_contact(s, contact_id)
    owed = commitments.list_commitments(s, status=None, contact_id=contact_id, limit=200)
    # Open ones first (by due date), then the closed history.
    owed.sort(key=lambda c: (c.status != "open", c.due_date is None, c.due_date or today))
    return ContactPage(
        detail=detail,
        commitments=owed,
        notes=notes.timeline(s, contact_id=contact_id, limit=TIMELINE_LIMIT),
        kept=commitments.kept_rate(s, today, contact_id=contact_id),
    )


def _section(title: str, text: str) -> str:
    if not text.strip():
        return ""
    body = html.escape(text).replace("\n", "<br>")
    return f"<p><b>{html.escape(title)}</b><br>{body}</p>"


def shown_text(value: object) -> str:
    """A field's value as a section of the page shows it: lists joined, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _dates(d: ContactDetail) -> list[str]:
    dates = []
    if d.birthday:
        dates.append(f"Birthday: {d.birthday.strftime('%d %B')}")
    return dates + [f"{label}: {when}" for label, when in d.personal_dates]


def profile_html(d: ContactDetail, kept: KeptRate, today: date) -> str:
    esc = html.escape
    where = " at ".join(p for p in (esc(d.role), esc(d.account_name)) if p)
    lines = [
        f"<h2 style='margin:0'>{esc(d.name)}</h2>",
        f"<p>{where or '&nbsp;'} · {KIND_LABELS.get(d.kind, d.kind)}"
        + (f" · {choice_label(d.stake_role)}" if d.stake_role else "")
        + "</p>",
    ]
    reach = [esc(x) for x in (*d.phones, *d.emails)]
    if reach:
        lines.append("<p>" + " · ".join(reach) + "</p>")
    if d.last_contact_at is None:
        last = "No interaction logged yet"
    else:
        days = (today - d.last_contact_at.astimezone().date()).days
        last = f"Last contact {days_ago(days)} ({day_text(d.last_contact_at)})"
    if d.cadence_days:
        due_in = (
            None
            if d.last_contact_at is None
            else d.cadence_days - (today - d.last_contact_at.astimezone().date()).days
        )
        if due_in is None or due_in < 0:
            every = plural(d.cadence_days, "day")
            last += f" — <b style='color:{colour('error')}'>check-in overdue</b> (every {every})"
        else:
            last += f" — next check-in {in_days(due_in)}"
    if d.cadence_max_days:
        last += f"; losing touch after {plural(d.cadence_max_days, 'day')}"
    lines.append(f"<p>{last}</p>")
    if kept.rate is not None:
        lines.append(
            f"<p>Our promises kept on time: {kept.rate:.0%} ({kept.kept_on_time} of {kept.total})</p>"
        )
    # The sections under the heading, in the fields' order (models.entities.Contact): a field
    # whose place is "section" shows as it is; the birthday and personal dates share one.
    fields = described(Contact)
    last_dated = [f.name for f in fields if f.shown.detail == "dates"][-1:]
    for field in fields:
        if field.shown.detail == "section":
            lines.append(_section(field.shown.label, shown_text(getattr(d, field.name))))
        elif field.name in last_dated:
            lines.append(_section(field.shown.label, "\n".join(_dates(d))))
    return "".join(lines)


class ContactDetailPane(QWidget):
    """Shows one contact. Emits ``delete_requested`` so the window can offer undo."""

    delete_requested = Signal(object, str)  # id, name
    status_set = Signal(object, str)  # the commitment row as it was, the status it now has
    print_requested = Signal(object)  # contact id
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.contact_id: uuid.UUID | None = None
        self.page: ContactPage | None = None
        self._today = date.today()
        self._generation = 0

        self.profile = QLabel()
        self.profile.setObjectName("profile")
        self.profile.setWordWrap(True)
        self.profile.setTextFormat(Qt.TextFormat.RichText)
        self.profile.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.profile.setAlignment(Qt.AlignmentFlag.AlignTop)

        self.edit_button = QPushButton("Edit…")
        self.note_button = QPushButton("Log note…")
        self.commit_button = QPushButton("Add commitment…")
        self.print_button = QPushButton("Print briefing…")
        self.delete_button = QPushButton("Delete")
        buttons = button_bar(
            self.edit_button, self.note_button, self.commit_button, self.print_button, self.delete_button
        )
        self.edit_button.clicked.connect(self.edit)
        self.note_button.clicked.connect(self.new_note)
        self.commit_button.clicked.connect(self.new_commitment)
        self.print_button.clicked.connect(self.print_briefing)
        self.delete_button.clicked.connect(self.delete)

        self.commitments = RowsModel(commitment_columns(lambda: self._today, with_contact=False), self)
        self.commitment_view = make_table(self.commitments, name="contact_commitments")
        # The pane is narrow: the short columns take what they need, "what" the rest (elided,
        # never scrolled out of sight).
        header = self.commitment_view.horizontalHeader()
        for column in range(self.commitments.columnCount() - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.commitments.columnCount() - 1, QHeaderView.ResizeMode.Stretch)
        cbar = QHBoxLayout()
        cbar.addWidget(QLabel("<b>Commitments</b>"))
        cbar.addStretch(1)
        self.done_button = QPushButton("Mark done")
        self.cancel_button = QPushButton("Cancel it")
        self.reopen_button = QPushButton("Reopen")
        for b, status in (
            (self.done_button, "done"),
            (self.cancel_button, "cancelled"),
            (self.reopen_button, "open"),
        ):
            cbar.addWidget(b)
            b.clicked.connect(lambda _=False, st=status: self.set_commitment_status(st))
        self.commitment_view.doubleClicked.connect(lambda _i: self.edit_commitment())
        on_selection(self.commitment_view, self._update_commitment_buttons)
        self._update_commitment_buttons()

        self.timeline = RowsModel[NoteRow](
            [
                Column("When", lambda r: day_text(r.occurred_at), width=130),
                Column("Channel", lambda r: CHANNEL_LABELS.get(r.channel, r.channel), width=80),
                Column("Summary", lambda r: r.summary),
            ],
            self,
        )
        self.timeline_view = make_table(self.timeline, name="timeline")
        self.timeline_view.selectionModel().selectionChanged.connect(self._show_note_body)
        self.timeline_view.doubleClicked.connect(lambda _i: self.edit_note())
        self.note_body = QPlainTextEdit()
        self.note_body.setReadOnly(True)
        self.note_body.setPlaceholderText("Select a note to read it")
        self.timeline_title = QLabel("<b>Timeline</b>")

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        # A long profile scrolls rather than being cut off under the buttons.
        self.profile_scroll = QScrollArea()
        self.profile_scroll.setWidgetResizable(True)
        self.profile_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.profile_scroll.setWidget(self.profile)
        tl.addWidget(self.profile_scroll, 1)
        tl.addWidget(buttons)
        mid = QWidget()
        ml = QVBoxLayout(mid)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addLayout(cbar)
        ml.addWidget(self.commitment_view)
        low = QWidget()
        ll = QVBoxLayout(low)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.timeline_title)
        ll.addWidget(self.timeline_view, 3)
        ll.addWidget(self.note_body, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("contact_detail_splitter")
        for w in (top, mid, low):
            self.splitter.addWidget(w)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([340, 130, 300])  # the profile first; the rep can drag the rest
        self.profile_scroll.setMinimumHeight(120)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        self.empty = QLabel("Select a contact to see their page.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty)
        layout.addWidget(self.splitter)
        self.splitter.hide()
        ctx.bus.changed.connect(self._on_data_changed)

    # -- loading -------------------------------------------------------------------------------
    def show_contact(self, contact_id: uuid.UUID | None) -> None:
        self.contact_id = contact_id
        self._generation += 1
        if contact_id is None:
            self.page = None
            self.splitter.hide()
            self.empty.show()
            return
        gen = self._generation

        def done(page: ContactPage) -> None:
            if gen == self._generation:
                self._fill(page)

        def failed(exc: BaseException) -> None:
            if gen != self._generation:
                return
            if isinstance(exc, NotFoundError):  # deleted meanwhile (another window, a sync)
                self.show_contact(None)
            else:
                self.ctx.presenter.present(exc)

        self.ctx.query(lambda s: load_page(s, contact_id), done, failed)

    def _fill(self, page: ContactPage) -> None:
        same_contact = self.page is not None and self.page.detail.id == page.detail.id
        self.page = page
        self._today = date.today()
        self.profile.setText(profile_html(page.detail, page.kept, self._today))
        if same_contact:  # refreshed after an edit: keep the rep's place in the lists
            refill(self.commitment_view, self.commitments, page.commitments)
            refill(self.timeline_view, self.timeline, page.notes)
        else:
            self.commitments.set_rows(page.commitments)
            self.timeline.set_rows(page.notes)
        more = " (latest shown)" if len(page.notes) >= TIMELINE_LIMIT else ""
        self.timeline_title.setText(f"<b>Timeline</b> — {plural(len(page.notes), 'note')}{more}")
        self.note_body.clear()
        self.empty.hide()
        self.splitter.show()
        self.loaded.emit()

    def _on_data_changed(self, entities: set[str]) -> None:
        if self.contact_id is not None and entities & {"contact", "note", "commitment", "account"}:
            self.show_contact(self.contact_id)

    def _show_note_body(self, selected: QItemSelection, _old: QItemSelection) -> None:
        rows = selected.indexes()
        note = self.timeline.row_at(rows[0].row()) if rows else None
        self.note_body.setPlainText(note.body if note else "")

    # -- actions -------------------------------------------------------------------------------
    def edit(self) -> None:
        if self.page is not None and self.current() is not None:
            ContactDialog(self.ctx, self.page.detail, self).open()

    def new_note(self) -> None:
        if (contact := self.current()) is not None:
            NoteDialog(self.ctx, contact=contact, parent=self).open()

    def new_commitment(self) -> None:
        if (contact := self.current()) is not None:
            CommitmentDialog(self.ctx, contact=contact, parent=self).open()

    def edit_note(self) -> None:
        index = self.timeline_view.currentIndex()
        row = self.timeline.row_at(index.row()) if index.isValid() else None
        if row:
            NoteDialog(self.ctx, row=row, parent=self).open()

    def current(self) -> tuple[uuid.UUID, str] | None:
        """The contact on screen, only once its page has loaded: while another one loads, the
        old page must not receive the rep's note."""
        if self.page is not None and self.page.detail.id == self.contact_id:
            return self.page.detail.id, self.page.detail.name
        return None

    def selected_commitment(self) -> CommitmentRow | None:
        return selected_row(self.commitment_view, self.commitments)

    def _update_commitment_buttons(self) -> None:
        row = self.selected_commitment()
        self.done_button.setEnabled(row is not None and row.status != "done")
        self.cancel_button.setEnabled(row is not None and row.status != "cancelled")
        self.reopen_button.setEnabled(row is not None and row.status != "open")

    def edit_commitment(self) -> None:
        row = self.selected_commitment()
        if row:
            CommitmentDialog(self.ctx, row=row, parent=self).open()

    def set_commitment_status(self, status: str) -> None:
        row = self.selected_commitment()
        if row is not None:
            self.ctx.act(
                lambda s: commitments.set_status(s, row.id, status),
                lambda _r: self.status_set.emit(row, status),
            )

    def print_briefing(self) -> None:
        if (contact := self.current()) is not None:
            self.print_requested.emit(contact[0])

    def delete(self) -> None:
        if (contact := self.current()) is not None:
            self.delete_requested.emit(*contact)
