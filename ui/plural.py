"""Counted words as a rep writes them: "1 note", "2 notes", "today", "1 day ago"."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and the word, singular for exactly one: plural(1, "change") == "1 change"."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def days_ago(days: int) -> str:
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days:,} days ago"


def in_days(days: int) -> str:
    if days <= 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days:,} days"
