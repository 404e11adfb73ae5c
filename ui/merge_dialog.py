"""Merging two contacts: both side by side, the rep picks each field's value.

A row per field the rep sees (the contact form's fields, in its order), the two values next to
each other, one radio button each (and "Both" for lists: emails, phones, tags...). On the
keyboard, Tab walks the values and Space picks the one with the focus. Fields with the same value on both
sides are shown greyed with no choice to make. The merge runs in the task runner; the window
offers Undo (``merged`` carries what it needs).
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from models.services import merging
from models.services.merging import MergeField, Pick
from ui.appearance import colour
from ui.context import AppContext

_PICKS: tuple[Pick, ...] = ("survivor", "other", "both")


class MergeDialog(QDialog):
    merged = Signal(object)  # merging.Merged

    def __init__(
        self, ctx: AppContext, first: uuid.UUID, second: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Merge contacts")
        self.survivor_id, self.other_id = first, second
        self.fields: list[MergeField] = []
        self.groups: dict[str, QButtonGroup] = {}
        self._first: QWidget | None = None
        self.intro = QLabel("Loading both contacts…")
        self.intro.setWordWrap(True)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(2, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidget(self.grid_host)
        self.swap_button = QPushButton("&Swap sides")
        self.swap_button.setToolTip("Keep the other contact as the one that stays")
        self.swap_button.clicked.connect(self.swap)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.merge_button = self.buttons.addButton("&Merge", QDialogButtonBox.ButtonRole.AcceptRole)
        self.merge_button.setEnabled(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.swap_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)
        self.resize(900, 620)
        self.load()

    def load(self) -> None:
        survivor, other = self.survivor_id, self.other_id
        self.merge_button.setEnabled(False)
        self.ctx.query(lambda s: merging.merge_fields(s, survivor, other), self._show, self._on_failed)

    def swap(self) -> None:
        self.survivor_id, self.other_id = self.other_id, self.survivor_id
        self.load()

    def _show(self, fields: list[MergeField]) -> None:
        if not isValid(self):
            return
        self.fields = fields
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.groups.clear()
        names = {f.name: f for f in fields}
        left, right = names["name"].survivor_text, names["name"].other_text
        self.intro.setText(
            f"“{right}” will be merged into “{left}”: pick the value to keep for each field. "
            f"Notes, commitments, visits, feedback and purchases of both stay, on “{left}”. "
            "Undo with Ctrl+Z afterwards."
        )
        for col, title in enumerate(("", f"Keep: {left}", f"Merged into it: {right}")):
            head = QLabel(f"<b>{title}</b>")
            head.setTextFormat(Qt.TextFormat.RichText)
            self.grid.addWidget(head, 0, col)
        for row, field in enumerate(fields, start=1):
            label = QLabel(field.label)
            label.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
            self.grid.addWidget(label, row, 0)
            if field.same:
                for col, text in ((1, field.survivor_text), (2, field.other_text)):
                    same = QLabel(text or "—")
                    same.setWordWrap(True)
                    same.setStyleSheet(f"color: {colour('muted')};")
                    self.grid.addWidget(same, row, col)
                continue
            group = QButtonGroup(self)
            group.setObjectName(f"pick_{field.name}")
            choices: list[tuple[Pick, str, int]] = [
                ("survivor", field.survivor_text or "(empty)", 1),
                ("other", field.other_text or "(empty)", 2),
            ]
            buttons: list[QRadioButton] = []
            for pick, text, col in choices:
                button = QRadioButton(_one_line(text))
                button.setToolTip(text)
                button.setObjectName(f"pick_{field.name}_{pick}")
                group.addButton(button, _PICKS.index(pick))
                self.grid.addWidget(button, row, col)
                buttons.append(button)
            if field.is_list and field.survivor and field.other:  # both only when both hold some
                both = QRadioButton("Both")
                both.setObjectName(f"pick_{field.name}_both")
                both.setToolTip("Keep every value of both, each once")
                group.addButton(both, _PICKS.index("both"))
                self.grid.addWidget(both, row, 3)
                buttons.append(both)
            checked = group.button(_PICKS.index(field.default))
            if checked is not None:
                checked.setChecked(True)
            label.setBuddy(checked)
            self.groups[field.name] = group
        self.merge_button.setEnabled(True)
        first = next(iter(self.groups.values()), None)
        self._first = first.checkedButton() if first is not None else self.merge_button
        if self.isVisible():
            # Widgets added to a shown dialog show on the next pass of the event loop (and a
            # hidden one takes no focus): focus after that.
            QTimer.singleShot(0, self, self._focus_first)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # The values may have arrived before the dialog showed: start on the first choice, once
        # QDialog has given the focus to its first button (after this event).
        QTimer.singleShot(0, self, self._focus_first)

    def _focus_first(self) -> None:
        if self._first is not None and isValid(self._first):
            self._first.setFocus()

    def picks(self) -> dict[str, Pick]:
        chosen = {name: group.checkedId() for name, group in self.groups.items()}
        return {name: _PICKS[i] for name, i in chosen.items() if i >= 0}

    def submit(self) -> None:
        survivor, other, picks = self.survivor_id, self.other_id, self.picks()
        self.merge_button.setEnabled(False)
        self.ctx.act(
            lambda s: merging.merge_contacts(s, survivor, other, picks), self._on_merged, self._on_failed
        )

    def _on_merged(self, result: object) -> None:
        self.merged.emit(result)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.merge_button.setEnabled(bool(self.groups) or bool(self.fields))
        self.ctx.presenter.present(exc, self)


def _one_line(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
