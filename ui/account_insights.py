"""What the account page says about the relationship: health with its reasons, promises kept on
time and NPS over the last 12 months (one block of words), and the three charts."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import date

from PySide6.QtWidgets import QGridLayout, QWidget
from sqlalchemy.orm import Session

from models.services.health import Health, Member, account_overdue_own, score_account
from models.services.insights import TREND_MONTHS, Trends, account_trends
from models.services.periods import last_months
from models.services.stakeholders import StakeholderGroup, stakeholder_map
from ui.charts import ChartPanel, kept_bars, nps_bars, touch_bars
from ui.health_text import health_html


@dataclass(frozen=True)
class AccountInsights:
    health: Health
    groups: list[StakeholderGroup]
    trends: Trends


def load_account_insights(s: Session, account_id: uuid.UUID, today: date) -> AccountInsights:
    start = last_months(today, TREND_MONTHS)[0].first_day  # 12 whole months, this one last
    groups = stakeholder_map(s, account_id, today)
    # The map has every person's health already: the account's score is built from it.
    members = [Member(p.name, p.stake_role, p.health) for g in groups for p in g.people]
    return AccountInsights(
        score_account(members, account_overdue_own(s, account_id, today)),
        groups,
        account_trends(s, account_id, today, start),
    )


def insights_html(ins: AccountInsights) -> str:
    t, esc = ins.trends, html.escape
    period = f"since {t.start.strftime('%-d %b %Y')}"
    return health_html(ins.health) + (
        f"<p><b>Promises:</b> {esc(t.kept.text)} {period}"
        + (f", {t.kept.cancelled} cancelled" if t.kept.cancelled else "")
        + f" · <b>Feedback:</b> {esc(t.nps.text)} {period}</p>"
    )


class AccountCharts(QWidget):
    """NPS by quarter, touches per month and promises kept per month, two columns wide."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("account_charts")
        self.nps = ChartPanel("NPS by quarter", "nps_chart", -100, 100)
        self.touches = ChartPanel("Touches per month", "touches_chart", 0, 10)
        self.kept = ChartPanel("Promises kept on time (%)", "kept_chart", 0, 100)
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.addWidget(self.nps, 0, 0)
        grid.addWidget(self.touches, 0, 1)
        grid.addWidget(self.kept, 1, 0)

    def show_trends(self, trends: Trends | None) -> None:
        if trends is None:
            for panel in (self.nps, self.touches, self.kept):
                panel.show_bars([], "")
            return
        self.nps.show_bars(*nps_bars(trends.nps_trend))
        bars, said = touch_bars(trends.touches_trend)
        self.touches.show_bars(bars, said, high=max([4, *(n for _m, n in trends.touches_trend)]))
        self.kept.show_bars(*kept_bars(trends.kept_trend))
