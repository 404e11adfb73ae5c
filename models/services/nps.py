"""Net Promoter Score: promoters 9-10, passives 7-8, detractors 0-6.

The ``measure`` lane owns this module (NPS figures by period, account and kind); the ``record``
lane needed only ``classify`` to suggest a follow-up to a detractor.
"""

from __future__ import annotations

from typing import Literal

Category = Literal["promoter", "passive", "detractor"]


def classify(score: int) -> Category:
    """The NPS category of a 0-10 score."""
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS score is 0-10, not {score}")
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"
