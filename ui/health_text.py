"""Relationship health in words for the pages: the score in the band's colour, then every reason
with what it cost (docs/health.md)."""

from __future__ import annotations

import html

from models.services.health import Health
from ui.appearance import colour


def health_html(health: Health) -> str:
    """ "Health 62/100 (watch)" (in red when at risk), then every reason and what it cost."""
    esc = html.escape
    if health.score is None:
        return f"<p><b>Health:</b> {esc(health.text)}</p>"
    tint = colour("error") if health.band == "at risk" else colour("text")
    reasons = "; ".join(esc(r.text) + (f" (−{r.points})" if r.points else "") for r in health.reasons)
    return (
        f"<p><b>Health <span style='color:{tint}'>{health.score}/100 ({esc(health.band)})</span></b>"
        f" — {reasons}</p>"
    )
