"""Satisfaction and trust: the rep's own NPS (overall and per kind of contact), promises kept on
time and their trends over a period they choose, and how many relationships are at risk."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from models.services.insights import HealthCounts, Trends, health_counts, period_choices, rep_trends
from ui.charts import ChartPanel, kept_bars, nps_bars
from ui.context import AppContext
from ui.qt_dates import from_qdate

CUSTOM = "Dates of my choice"


@dataclass(frozen=True)
class RepInsights:
    trends: Trends


def load_rep_insights(s: Session, today: date, start: date, end: date) -> RepInsights:
    return RepInsights(rep_trends(s, today, start, end))


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def figures_html(t: Trends) -> str:
    esc = html.escape
    kinds = "".join(
        f"<br>&nbsp;&nbsp;{esc(kind.capitalize())}s: {esc(f.text)}" for kind, f in t.nps_by_kind if f.answers
    )
    kept = esc(t.kept.text) + (f", {t.kept.cancelled} cancelled (not counted)" if t.kept.cancelled else "")
    return (
        f"<p><b>Feedback:</b> {esc(t.nps.text)}{kinds}</p>"
        f"<p><b>Promises kept on time:</b> {kept}"
        + (f"; {t.kept.open_overdue} still overdue" if t.kept.open_overdue else "")
        + "</p>"
    )


class InsightsDialog(QDialog):
    """Not modal: the rep can leave it open beside the window while working."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, today: date | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.today = today or date.today()
        self.setObjectName("insights")
        self.setWindowTitle("Satisfaction and trust")
        self.insights: RepInsights | None = None
        self.counts: HealthCounts | None = None
        self._gen = 0
        self.period = QComboBox()
        self.period.setObjectName("insights_period")
        self.period.setAccessibleName("Period")
        self.choices = period_choices(self.today)
        for text, _start, _end in self.choices:
            self.period.addItem(text)
        self.period.addItem(CUSTOM)
        self.start, self.end = QDateEdit(), QDateEdit()
        for edit, name in ((self.start, "From"), (self.end, "To")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("d MMM yyyy")
            edit.setAccessibleName(name)
        bar = QHBoxLayout()
        label = QLabel("&Period:")
        label.setBuddy(self.period)
        bar.addWidget(label)
        bar.addWidget(self.period, 1)
        bar.addWidget(QLabel("from"))
        bar.addWidget(self.start)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.end)
        self.figures = QLabel("Counting…")
        self.figures.setObjectName("insights_figures")
        self.figures.setWordWrap(True)
        self.health = QLabel("Relationship health: counting every contact…")
        self.health.setObjectName("insights_health")
        self.health.setWordWrap(True)
        self.nps_chart = ChartPanel("NPS by quarter", "rep_nps_chart", -100, 100)
        self.kept_chart = ChartPanel("Promises kept on time by month (%)", "rep_kept_chart", 0, 100)
        charts = QGridLayout()
        charts.addWidget(self.nps_chart, 0, 0)
        charts.addWidget(self.kept_chart, 0, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.figures)
        layout.addWidget(self.health)
        layout.addLayout(charts, 1)
        layout.addWidget(buttons)
        self.resize(820, 520)
        self.period.currentIndexChanged.connect(self._on_period)
        self.start.dateChanged.connect(lambda _d: self._on_dates())
        self.end.dateChanged.connect(lambda _d: self._on_dates())
        self._on_period(0)
        ctx.query(lambda s: health_counts(s, self.today), self._on_counts)

    def _on_period(self, index: int) -> None:
        custom = index >= len(self.choices)
        for edit in (self.start, self.end):
            edit.setEnabled(custom)
        if not custom:
            _label, start, end = self.choices[index]
            for edit, day in ((self.start, start), (self.end, end)):
                edit.blockSignals(True)
                edit.setDate(_qdate(day))
                edit.blockSignals(False)
        self.reload()

    def _on_dates(self) -> None:
        if self.period.currentIndex() >= len(self.choices):
            self.reload()

    def chosen(self) -> tuple[date, date]:
        start, end = from_qdate(self.start.date()), from_qdate(self.end.date())
        return (start, end) if start <= end else (end, start)

    def reload(self) -> None:
        self._gen += 1
        gen, (start, end), today = self._gen, self.chosen(), self.today

        def done(insights: RepInsights) -> None:
            if gen == self._gen:
                self.show_insights(insights)

        self.ctx.query(lambda s: load_rep_insights(s, today, start, end), done)

    def show_insights(self, insights: RepInsights) -> None:
        self.insights = insights
        t = insights.trends
        self.figures.setText(figures_html(t))
        self.nps_chart.show_bars(*nps_bars(t.nps_trend))
        self.kept_chart.show_bars(*kept_bars(t.kept_trend))

    def _on_counts(self, counts: HealthCounts) -> None:
        self.counts = counts
        self.health.setText(
            f"<b>Relationship health today:</b> {html.escape(counts.text)} (a score out of 100 from"
            " recency against cadence, promises, feedback and how often you are in touch)"
        )
