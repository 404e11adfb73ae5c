"""The first start: one small screen that asks what the rep wants (sign in to the team's server,
try with sample data, or start empty), so a newcomer is not dropped on an empty Contacts page.

Shown once: only when there is no database yet and the settings file holds no answer; the answer
is saved as soon as it is given. Closing the screen (Esc) starts empty, which loses nothing:
Sync › Sign in… and File › Try with sample data stay in the menus.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCommandLinkButton, QDialog, QLabel, QVBoxLayout, QWidget

from ui.appearance import icon
from ui.settings import app_settings

CHOICE_KEY = "first_run/choice"


class FirstChoice(StrEnum):
    SIGN_IN = "sign_in"
    SAMPLE = "sample"
    EMPTY = "empty"


def is_first_start(db_path: Path) -> bool:
    return not db_path.exists() and app_settings().value(CHOICE_KEY) is None


def remember_choice(choice: FirstChoice) -> None:
    settings = app_settings()
    settings.setValue(CHOICE_KEY, choice.value)
    settings.sync()


class FirstRunDialog(QDialog):
    chosen = Signal(str)  # a FirstChoice value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("first_run")
        self.setWindowTitle("Welcome to Rapport")
        self.choice = FirstChoice.EMPTY
        intro = QLabel(
            "<h3>Welcome to Rapport</h3>"
            "Your contacts, notes and commitments live on this laptop and work offline. "
            "How would you like to start?"
        )
        intro.setWordWrap(True)
        self.sign_in_button = self._button(
            "&Sign in to my team's server",
            "Your team's records come down to this laptop and stay in step. You need the "
            "server's address, your user name and password.",
            FirstChoice.SIGN_IN,
        )
        self.sample_button = self._button(
            "&Try with sample data",
            "200 made-up contacts in a separate database, never synced. Leave it with "
            "File › Back to my records; your own stay untouched.",
            FirstChoice.SAMPLE,
        )
        self.empty_button = self._button(
            "Start &empty",
            "Add your own contacts now; you can sign in to a team server later (Sync › Sign in…).",
            FirstChoice.EMPTY,
        )
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        for button in (self.sign_in_button, self.sample_button, self.empty_button):
            layout.addWidget(button)
        self.setMinimumWidth(520)
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _button(self, title: str, description: str, choice: FirstChoice) -> QCommandLinkButton:
        button = QCommandLinkButton(title, description)
        button.setObjectName(f"first_run_{choice.value}")
        button.setIcon(icon("arrow-right"))  # Qt's own arrow is black, lost on the dark appearance
        button.clicked.connect(lambda: self._choose(choice))
        return button

    def _choose(self, choice: FirstChoice) -> None:
        self.choice = choice
        self.accept()

    def done(self, result: int) -> None:
        # Every way out (a button, Esc, the window's close box) gives an answer and saves it.
        remember_choice(self.choice)
        self.chosen.emit(self.choice.value)
        super().done(result)


def ask_first_start(parent: QWidget | None = None) -> FirstChoice:
    dialog = FirstRunDialog(parent)
    dialog.exec()
    return dialog.choice
