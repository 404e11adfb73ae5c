"""Today: who is overdue for a check-in, which promises are late or due this week, and how
well we keep our word."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from models.rows import CommitmentRow, ContactRow, TodaySummary
from models.services import today as today_service
from ui.appearance import colour
from ui.contacts_model import last_contact_text
from ui.context import AppContext
from ui.plural import plural
from ui.table import Column, RowsModel, commitment_columns, make_table


class TodayView(QWidget):
    contact_open_requested = Signal(object)
    summary_loaded = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._today = date.today()
        self.headline = QLabel()
        self.headline.setObjectName("today_headline")
        self.headline.setWordWrap(True)
        self.checkins = RowsModel[ContactRow](
            [
                Column("Contact", lambda r: r.name, width=180),
                Column("Account", lambda r: r.account_name, width=220),
                Column("Last contact", lambda r: last_contact_text(r, self._today), lambda r: True),
                Column("Cadence", lambda r: f"every {r.cadence_days} d"),
            ],
            self,
        )
        self.overdue = RowsModel(commitment_columns(lambda: self._today), self)
        self.week = RowsModel(commitment_columns(lambda: self._today), self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headline)
        self.titles: dict[str, QLabel] = {}
        for title, model, name in (
            ("Overdue commitments", self.overdue, "today_overdue"),
            ("Due in the next 7 days", self.week, "today_week"),
            ("Check-ins overdue", self.checkins, "today_checkins"),
        ):
            label = QLabel(f"<b>{title}</b>")
            label.setObjectName(f"{name}_title")
            self.titles[name] = label
            view = make_table(model, name=name)
            # Double-click, or Enter for a rep on the keyboard.
            view.activated.connect(lambda index, m=model: self._open(m, index))
            layout.addWidget(label)
            layout.addWidget(view, 1)
        ctx.bus.changed.connect(lambda _e: self.reload())

    def reload(self) -> None:
        self.ctx.query(lambda s: today_service.today_summary(s, date.today()), self._fill)

    def _fill(self, summary: TodaySummary) -> None:
        self._today = date.today()
        self.overdue.set_rows(summary.overdue_commitments)
        self.week.set_rows(summary.due_this_week)
        self.checkins.set_rows(summary.overdue_checkins)
        overdue = summary.overdue_commitments_count
        parts = [
            f"<b style='color:{colour('error')}'>{plural(overdue, 'overdue commitment')}</b>"
            if overdue
            else "No overdue commitments",
            f"{summary.due_this_week_count:,} due this week",
            f"{plural(summary.overdue_checkins_count, 'check-in')} overdue",
        ]
        for name, title, rows, total in (
            ("today_overdue", "Overdue commitments", summary.overdue_commitments, overdue),
            ("today_week", "Due in the next 7 days", summary.due_this_week, summary.due_this_week_count),
            ("today_checkins", "Check-ins overdue", summary.overdue_checkins, summary.overdue_checkins_count),
        ):
            shown = f" — the first {len(rows):,} of {total:,} shown" if len(rows) < total else ""
            self.titles[name].setText(f"<b>{title}</b>{shown}")
        kept = summary.kept
        if kept.rate is not None:
            parts.append(f"kept on time: <b>{kept.rate:.0%}</b> ({kept.kept_on_time:,} of {kept.total:,})")
        self.headline.setText(" · ".join(parts))
        self.summary_loaded.emit(summary)

    def _open(self, model: RowsModel[ContactRow] | RowsModel[CommitmentRow], index: QModelIndex) -> None:
        row = model.row_at(index.row())
        if isinstance(row, ContactRow):
            self.contact_open_requested.emit(row.id)
        elif isinstance(row, CommitmentRow) and row.contact_id is not None:
            self.contact_open_requested.emit(row.contact_id)
