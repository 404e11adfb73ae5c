"""The contact's page: who they are, what is owed both ways, and the interaction timeline."""

from __future__ import annotations

import dataclasses
import html
import uuid
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
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
from models.services import cadence, commitments, contacts, followups, notes
from models.services.cadence import Cadence, Standing
from models.services.health import Health, contact_health
from models.values import described
from ui.appearance import colour
from ui.contact_record import ContactRecordTabs
from ui.context import AppContext
from ui.dialogs import CHANNEL_LABELS, KIND_LABELS, CommitmentDialog, ContactDialog, NoteDialog
from ui.field_editors import choice_label
from ui.health_text import health_html
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
    cadence: Cadence = dataclasses.field(default_factory=Cadence)
    health: Health | None = None  # relationship health with its reasons (docs/health.md)


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
        cadence=cadence.contact_cadence(s, contact_id),
        health=contact_health(s, contact_id, today),
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


def cadence_line(d: ContactDetail, cad: Cadence, today: date) -> str:
    """Last contact and where it stands against the effective cadence (the contact's own, else
    its tier's or kind's default from Preferences, said so): amber past the ideal interval,
    red past the longest gap."""
    if d.last_contact_at is None:
        last = "No interaction logged yet"
    else:
        days = (today - d.last_contact_at.astimezone().date()).days
        last = f"Last contact {days_ago(days)} ({day_text(d.last_contact_at)})"
    if cad.ideal:
        every = plural(cad.ideal, "day") + ("" if d.cadence_days else ", the default")
        standing = cadence.standing(d.last_contact_at, cad, today)
        due = cadence.due_date(d.last_contact_at, cad.ideal, today)
        if standing is Standing.LOSING:
            last += f" — <b style='color:{colour('error')}'>losing touch</b> (every {every})"
        elif standing is Standing.LATE:
            last += f" — <b style='color:{colour('warning')}'>check-in overdue</b> (every {every})"
        elif standing is Standing.DUE:
            last += f" — check-in due today (every {every})"
        elif due is not None:
            last += f" — next check-in {in_days((due - today).days)} (every {every})"
    if cad.maximum:
        last += f"; losing touch after {plural(cad.maximum, 'day')}"
    return last


def _health_html(health: Health | None) -> str:
    """The contact's relationship health and its reasons (docs/health.md), under the profile."""
    return health_html(health) if health is not None and health.score is not None else ""


def profile_html(d: ContactDetail, kept: KeptRate, today: date, cad: Cadence | None = None) -> str:
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
    last = cadence_line(d, cad or Cadence(d.cadence_days, d.cadence_max_days), today)
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
    row_delete_requested = Signal(str, object, str)  # a note or commitment: entity, id, title
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
        self._note_after_load: uuid.UUID | None = None

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
        self._add_commitment_delete(cbar)
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
        ll.addLayout(self._note_actions_bar())
        ll.addWidget(self.timeline_view, 3)
        ll.addWidget(self.note_body, 1)
        self.record = ContactRecordTabs(ctx)  # feedback, purchases, thank-yous
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("contact_detail_splitter")
        for w in (top, mid, low, self.record):
            self.splitter.addWidget(w)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setStretchFactor(3, 1)
        self.splitter.setSizes([270, 110, 210, 190])  # the profile first; the rep can drag the rest
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
            self.record.set_contact(None)
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
        self.profile.setText(
            profile_html(page.detail, page.kept, self._today, page.cadence) + _health_html(page.health)
        )
        if same_contact:  # refreshed after an edit: keep the rep's place in the lists
            refill(self.commitment_view, self.commitments, page.commitments)
            refill(self.timeline_view, self.timeline, page.notes)
        else:
            self.commitments.set_rows(page.commitments)
            self.timeline.set_rows(page.notes)
        more = " (latest shown)" if len(page.notes) >= TIMELINE_LIMIT else ""
        self.timeline_title.setText(f"<b>Timeline</b> — {plural(len(page.notes), 'note')}{more}")
        self.note_body.clear()
        self.record.set_contact((page.detail.id, page.detail.name))
        self.empty.hide()
        self.splitter.show()
        wanted, self._note_after_load = self._note_after_load, None
        if wanted is not None:
            self._select_note_row(wanted)
        self.loaded.emit()

    def show_note(self, contact_id: uuid.UUID, note_id: uuid.UUID) -> None:
        """Open the contact's page with this note selected in the timeline, its text shown."""
        self._note_after_load = note_id
        if self.page is not None and self.page.detail.id == contact_id:
            if self._select_note_row(note_id):
                self._note_after_load = None
            else:
                self.show_contact(contact_id)  # newer than the page on screen: load it again
        # Otherwise the contact's page is loading (select_contact): _fill selects the note.

    def _select_note_row(self, note_id: uuid.UUID) -> bool:
        row = next((i for i, r in enumerate(self.timeline.rows()) if r.id == note_id), -1)
        if row < 0:
            return False
        self.timeline_view.selectRow(row)
        self.timeline_view.setFocus()  # the arrows go on through the timeline from there
        self.timeline_view.scrollTo(
            self.timeline.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter
        )
        return True

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

    # -- per-note and per-commitment actions: follow up, delete (issue 12) ---------------------
    def _note_actions_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.addWidget(self.timeline_title)
        bar.addStretch(1)
        self.follow_up_button = QPushButton("Make a commitment…")
        self.follow_up_button.setToolTip(
            "A promise made in this note, with its contact and account filled in"
        )
        self.delete_note_button = QPushButton("Delete note")
        self.follow_up_button.clicked.connect(self.follow_up_note)
        self.delete_note_button.clicked.connect(self.delete_note)
        for button in (self.follow_up_button, self.delete_note_button):
            bar.addWidget(button)
            button.setEnabled(False)
        on_selection(self.timeline_view, self._update_note_buttons)
        return bar

    def _add_commitment_delete(self, bar: QHBoxLayout) -> None:
        self.delete_commitment_button = QPushButton("Delete")
        # "Delete" in the Commitments bar (room is short); the contact's own Delete is elsewhere.
        self.delete_commitment_button.setAccessibleName("Delete commitment")
        self.delete_commitment_button.setToolTip(
            "Delete this commitment (Undo with Ctrl+Z, or from the Trash)"
        )
        self.delete_commitment_button.clicked.connect(self.delete_commitment)
        self.delete_commitment_button.setEnabled(False)
        bar.addWidget(self.delete_commitment_button)
        on_selection(
            self.commitment_view,
            lambda: self.delete_commitment_button.setEnabled(self.selected_commitment() is not None),
        )

    def selected_note(self) -> NoteRow | None:
        return selected_row(self.timeline_view, self.timeline)

    def _update_note_buttons(self) -> None:
        chosen = self.selected_note() is not None
        self.follow_up_button.setEnabled(chosen)
        self.delete_note_button.setEnabled(chosen)

    def follow_up_note(self) -> None:
        note, contact = self.selected_note(), self.current()
        if note is None:
            return

        def open_dialog(draft: followups.FollowUpDraft) -> None:
            CommitmentDialog(self.ctx, contact=contact, draft=draft, parent=self).open()

        self.ctx.query(lambda s: followups.draft_from_note(s, note.id), open_dialog)

    def delete_note(self) -> None:
        if (note := self.selected_note()) is not None:
            self.row_delete_requested.emit("note", note.id, note.summary)

    def delete_commitment(self) -> None:
        if (row := self.selected_commitment()) is not None:
            self.row_delete_requested.emit("commitment", row.id, row.what)

    def delete_focused_row(self) -> bool:
        """The Delete key in the timeline or the commitments deletes that row (True if it did)."""
        if self.timeline_view.hasFocus() and self.selected_note() is not None:
            self.delete_note()
            return True
        if self.commitment_view.hasFocus() and self.selected_commitment() is not None:
            self.delete_commitment()
            return True
        return False

    def print_briefing(self) -> None:
        if (contact := self.current()) is not None:
            self.print_requested.emit(contact[0])

    def delete(self) -> None:
        if (contact := self.current()) is not None:
            self.delete_requested.emit(*contact)
