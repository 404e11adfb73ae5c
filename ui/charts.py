"""Small bar charts drawn with QPainter: NPS by quarter, touches per month, promises kept.

QtCharts is not in PySide6-Essentials, and the full PySide6 wheel (or a plotting library such
as pyqtgraph with numpy) would add tens of megabytes to the bundle for three bar charts; a
hundred lines of QPainter draw them in the appearance's colours, at any pixel ratio, with nothing
new to ship (docs/design.md, "Charts").

Every chart carries its own text alternative: the summary line under it (``summary``), and the
value of every bar in its tooltip and accessible description, so a screen reader or a rep who
would rather read gets the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from models.rows import KeptRate
from models.services.nps import NpsFigure
from models.services.periods import Month, Quarter
from ui.appearance import colour, on_appearance_changed


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # under the bar: "Q1 26", "Mar"
    value: float | None  # None: nothing to show (drawn as a gap, said "no data")
    text: str  # what the bar says in words: "Q1 2026: NPS +40 (5 answers)"


class BarChart(QWidget):
    """Bars from ``low`` to ``high`` (``low`` below zero draws a zero line: NPS runs -100..100)."""

    def __init__(self, name: str, low: float = 0, high: float = 100, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.low, self.high = low, high
        self.bars: tuple[Bar, ...] = ()
        self.setMinimumSize(180, 110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        on_appearance_changed(self.update)

    def sizeHint(self) -> QSize:
        return QSize(320, 150)

    def set_bars(self, bars: Sequence[Bar], high: float | None = None) -> None:
        self.bars = tuple(bars)
        if high is not None:
            self.high = high
        described = "\n".join(b.text for b in self.bars) or "No data"
        self.setToolTip(described)
        self.setAccessibleDescription(described)
        self.update()

    def _y(self, value: float, top: float, height: float) -> float:
        span = (self.high - self.low) or 1
        return top + height * (self.high - value) / span

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text, muted = QColor(colour("text")), QColor(colour("muted"))
        good, bad = QColor(colour("highlight")), QColor(colour("error"))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.85))
        painter.setFont(small)
        metrics = painter.fontMetrics()
        label_h = metrics.height() + 2
        top, left = float(metrics.height() + 2), 4.0
        width, height = self.width() - 8.0, self.height() - top - label_h - 2
        zero = self._y(max(self.low, 0), top, height)
        painter.setPen(QPen(muted, 1))
        painter.drawLine(int(left), int(zero), int(left + width), int(zero))
        if not self.bars:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No data yet")
            return
        slot = width / len(self.bars)
        bar_w = max(4.0, slot * 0.6)
        every = max(1, int((metrics.horizontalAdvance("Mmm 00") + 4) // slot) + 1)  # labels that fit
        for i, bar in enumerate(self.bars):
            x = left + i * slot + (slot - bar_w) / 2
            if bar.value is None:
                painter.setPen(QPen(muted, 1, Qt.PenStyle.DotLine))
                painter.drawLine(int(x), int(zero), int(x + bar_w), int(zero))
            else:
                y = self._y(bar.value, top, height)
                rect = QRectF(x, min(y, zero), bar_w, max(1.0, abs(zero - y)))
                painter.fillRect(rect, bad if bar.value < 0 else good)
                painter.setPen(text)
                value_text = f"{bar.value:+.0f}" if self.low < 0 else f"{bar.value:.0f}"
                above = rect.top() - 2 if bar.value >= 0 else rect.bottom() + metrics.ascent()
                if slot >= metrics.horizontalAdvance(value_text) + 2:
                    painter.drawText(
                        int(x + (bar_w - metrics.horizontalAdvance(value_text)) / 2), int(above), value_text
                    )
            if i % every == 0 or i == len(self.bars) - 1:
                painter.setPen(muted)
                label_rect = QRectF(left + i * slot - slot, top + height + 2, slot * 3, label_h)
                painter.drawText(
                    label_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, bar.label
                )


class ChartPanel(QWidget):
    """A chart with its title above and its summary in words below (the text alternative)."""

    def __init__(
        self, title: str, name: str, low: float = 0, high: float = 100, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.chart = BarChart(name, low, high, self)
        self.chart.setAccessibleName(title)
        self.summary = QLabel("")
        self.summary.setObjectName(f"{name}_summary")
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.summary)

    def show_bars(self, bars: Sequence[Bar], summary: str, high: float | None = None) -> None:
        self.chart.set_bars(bars, high)
        self.summary.setText(summary)
        self.chart.setToolTip(summary + "\n\n" + self.chart.toolTip())


# --- the three charts' bars and words ----------------------------------------------------------


def _signed(score: float | None) -> str:
    return "no answers" if score is None else f"{round(score):+d}"


def nps_bars(trend: Sequence[tuple[Quarter, NpsFigure]]) -> tuple[list[Bar], str]:
    bars = [Bar(f"Q{q.number} {q.year % 100:02d}", f.score, f"{q.label}: {f.text}") for q, f in trend]
    said = ", ".join(f"{q.label} {_signed(f.score)}" for q, f in trend)
    return bars, f"NPS by quarter: {said}." if trend else "No quarters in the period."


def touch_bars(trend: Sequence[tuple[Month, int]]) -> tuple[list[Bar], str]:
    bars = [
        Bar(m.first_day.strftime("%b"), n, f"{m.label}: {n} touch{'' if n == 1 else 'es'}") for m, n in trend
    ]
    total = sum(n for _m, n in trend)
    if not total:
        return bars, f"No notes with this account in the last {len(trend)} months."
    busiest, most = max(trend, key=lambda t: t[1])
    return bars, (
        f"{total} touch{'' if total == 1 else 'es'} in {len(trend)} months, {total / len(trend):.1f} a month;"
        f" most in {busiest.label} ({most})."
    )


def kept_bars(trend: Sequence[tuple[Month, KeptRate]]) -> tuple[list[Bar], str]:
    bars = [
        Bar(m.first_day.strftime("%b"), None if r.rate is None else 100 * r.rate, f"{m.label}: {r.text}")
        for m, r in trend
    ]
    decided = [(m, r) for m, r in trend if r.rate is not None]
    if not decided:
        return bars, "No promises of ours fell due in these months."
    kept = sum(r.kept_on_time for _m, r in decided)
    total = sum(r.total for _m, r in decided)
    worst, low = min(decided, key=lambda t: t[1].rate or 0)
    return bars, (
        f"{round(100 * kept / total)}% of our promises kept on time over {len(trend)} months"
        f" ({kept} of {total}); lowest {worst.label} ({round(100 * (low.rate or 0))}%)."
    )
