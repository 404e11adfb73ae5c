"""The contact form's warning that the person being typed probably exists already.

"Anna Müller at Delta Bakery already exists (same email anna@delta.example)", with a button to
open that contact instead. Looked up off the GUI thread a moment after the rep stops typing the
name, account, emails or phones; an answer to an older lookup is ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget
from shiboken6 import isValid

from models.errors import ValidationError
from models.services import duplicates
from models.services.duplicates import LikelyMatch
from ui.context import AppContext

# After the last keystroke: long enough not to query on every letter, short enough to show
# before the rep reaches the next field.
DELAY_MS = 350


class MatchWarning(QWidget):
    open_requested = Signal(object)  # the existing contact's id

    def __init__(
        self,
        ctx: AppContext,
        read: Callable[[], tuple[str, uuid.UUID | None, list[str], list[str]]],
        exclude: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._read = read
        self._exclude = exclude
        self._asked = 0
        self.match: LikelyMatch | None = None
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.open_button = QPushButton("Open it")
        self.open_button.setObjectName("open_existing")
        self.open_button.clicked.connect(self._on_open)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text, 1)
        row.addWidget(self.open_button)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DELAY_MS)
        self.timer.timeout.connect(self.check)
        self.hide()

    def changed(self, *_args: object) -> None:
        self.timer.start()

    def check(self) -> None:
        try:
            name, account_id, emails, phones = self._read()
        except ValidationError:  # an account name half typed: look again once it is whole
            return
        self._asked += 1
        asked = self._asked
        if len(name.strip()) < 3 and not emails and not phones:
            self._show([], asked)
            return
        exclude = self._exclude
        self.ctx.query(
            lambda s: duplicates.likely_matches(s, name, account_id, emails, phones, exclude=exclude),
            lambda found: self._show(found, asked),
        )

    def _show(self, found: list[LikelyMatch], asked: int) -> None:
        if not isValid(self):
            return  # the form was closed while the lookup ran
        if asked != self._asked:
            return  # the rep typed on meanwhile: a newer answer is coming
        self.match = found[0] if found else None
        if self.match is None:
            self.hide()
            return
        where = f" at {self.match.account_name}" if self.match.account_name else ""
        self.text.setText(
            f"{self.match.name}{where} already exists ({self.match.reason}). Open that contact instead?"
        )
        self.open_button.setText(f"Open {self.match.name[:40]}")
        self.show()

    def _on_open(self) -> None:
        if self.match is not None:
            self.open_requested.emit(self.match.id)
