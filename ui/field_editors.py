"""The editor of each kind of field (``models.shown.Editor``): the widget, filled with a value,
and how to read back what the rep typed in the form the services take.

``FormDialog.add_described`` lays a row type's described fields out with these, so a field added
to a model with ``info=shown(...)`` gets its editor, label, hint and place in the tab order
without code here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit, QWidget

from models.errors import ValidationError
from models.services import accounts
from models.values import Described
from ui.context import AppContext

Reader = Callable[[], Any]


def text_box(height: int = 60) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setTabChangesFocus(True)
    box.setFixedHeight(height)
    return box


def combo(labels: dict[str, str], current: str) -> QComboBox:
    box = QComboBox()
    for value, label in labels.items():
        box.addItem(label, value)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


def split_list(text: str) -> list[str]:
    """Several values typed in one line, separated by commas or semicolons."""
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class AccountCombo(QComboBox):
    """Every live account (loaded off the GUI thread), plus "no account"."""

    def __init__(self, ctx: AppContext, current: uuid.UUID | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItem("— none —", None)
        self.setEditable(True)  # type to jump: the completer matches any part of the name
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self._current = current
        ctx.query(accounts.account_choices, self._fill)

    def _fill(self, choices: list[tuple[uuid.UUID, str]]) -> None:
        for aid, name in choices:
            self.addItem(name, aid)
        # findData cannot compare Python objects such as UUIDs, so look the account up by hand.
        for i in range(self.count()):
            if self._current is not None and self.itemData(i) == self._current:
                self.setCurrentIndex(i)
                break
        completer = self.completer()
        if completer is not None:  # an editable combo box always has one
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def account_id(self) -> uuid.UUID | None:
        index = self.findText(self.currentText())
        if index < 0:
            if self.currentText().strip():
                raise ValidationError({"account_id": f"There is no account called “{self.currentText()}”"})
            return None
        value = self.itemData(index)
        return value if isinstance(value, uuid.UUID) else None


def _dated_lines(text: str) -> list[tuple[str, str | date]]:
    dates: list[tuple[str, str | date]] = []
    for line in text.splitlines():
        if line.strip():
            label, _, when = line.rpartition(":")
            dates.append((label.strip(), when.strip()))
    return dates


def choice_label(value: str) -> str:
    """How a choice reads in a form: "decision_maker" as "Decision maker", "" as "—" (not said)."""
    return value.replace("_", " ").capitalize() or "—"


def make_editor(ctx: AppContext, field: Described, value: Any) -> tuple[QWidget, Reader]:
    """The widget for ``field`` showing ``value`` (as the form's input holds it), and its reader."""
    shown = field.shown
    if shown.editor in ("text", "dates"):
        box = text_box(shown.height)
        if shown.editor == "dates":
            box.setPlainText("\n".join(f"{label}: {when}" for label, when in value or ()))
            return box, lambda: _dated_lines(box.toPlainText())
        box.setPlainText(value or "")
        return box, box.toPlainText
    if shown.editor == "choice":
        choices = field.spec.choices or ()
        chooser = combo({c: choice_label(c) for c in choices}, value)
        return chooser, chooser.currentData
    if shown.editor == "account":
        picker = AccountCombo(ctx, value)
        return picker, picker.account_id
    if shown.editor == "list":
        line = QLineEdit(", ".join(value or ()))
        return line, lambda: split_list(line.text())
    if shown.editor == "date":
        text = value.isoformat() if isinstance(value, date) else (value or "")
    elif shown.editor == "count":
        text = "" if value is None else str(value)
    else:
        text = value or ""
    line = QLineEdit(text)
    if shown.placeholder:
        line.setPlaceholderText(shown.placeholder)
    if shown.editor == "line":
        return line, line.text
    return line, lambda: line.text().strip() or None  # empty means no date, no number
