"""Edit › Preferences…: the rep's settings in one form, saved to ``settings.ini`` only when every
field is valid (a wrong one is explained under it, and nothing is written)."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from models.paths import data_dir
from models.services.contacts import KINDS
from ui.context import AppContext
from ui.forms import FormDialog
from ui.printing.render import default_paper
from ui.settings import APPEARANCES, PAPERS, SYNC_MINUTES, Preferences, check_preferences, save_preferences

CADENCE_LABELS = {
    "customer": "New customers",
    "partner": "New partners",
    "supplier": "New suppliers",
    "colleague": "New colleagues",
    "other": "Other new contacts",
}


class PreferencesDialog(FormDialog):
    """``saved`` carries the new :class:`Preferences`; the window applies them at once."""

    def __init__(
        self, ctx: AppContext, prefs: Preferences, signed_in: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, "Preferences", parent)
        self.setObjectName("preferences")
        where = f"You are signed in to {signed_in}. " if signed_in else ""
        self.server = self.add_field(
            "server",
            "Team server",
            QLineEdit(prefs.server),
            where + "Proposed when you sign in; a new address asks you to sign in there.",
        )
        self.server.setPlaceholderText("https://sync.example.com")
        self.paper = self.add_field("paper", "Paper size", QComboBox(), "For briefing sheets, printed or PDF")
        for paper in PAPERS:
            self.paper.addItem(paper or f"From the language settings ({default_paper()})", paper)
        self.paper.setCurrentIndex(max(0, self.paper.findData(prefs.paper)))
        low, high = SYNC_MINUTES
        self.sync_minutes = self.add_field(
            "sync_minutes",
            "Sync every",
            QLineEdit(str(prefs.sync_minutes)),
            f"Minutes, {low} to {high:,}; also on F5 and when the network comes back",
        )
        self.reminders = self.add_field(
            "reminders",
            "Reminders",
            QCheckBox("Remind me of due commitments and check-ins"),
            "Reminders arrive in a later version of Rapport; your choice is kept for them.",
        )
        self.reminders.setChecked(prefs.reminders)
        self.appearance = self.add_field("appearance", "Appearance", QComboBox())
        for key, label in APPEARANCES.items():
            self.appearance.addItem(label, key)
        self.appearance.setCurrentIndex(max(0, self.appearance.findData(prefs.appearance)))
        self.cadence: dict[str, QLineEdit] = {}
        for i, kind in enumerate(KINDS):
            days = prefs.cadence.get(kind)
            hint = "Days; fills in a new contact's check-in cadence. Empty: none." if i == 0 else ""
            self.cadence[kind] = self.add_field(
                f"cadence_{kind}",
                f"{CADENCE_LABELS.get(kind, kind.capitalize())}: check in every",
                QLineEdit("" if days is None else str(days)),
                hint,
            )
        folder = QWidget()
        row = QHBoxLayout(folder)
        row.setContentsMargins(0, 0, 0, 0)
        self.folder_label = QLabel(str(data_dir()))
        self.folder_label.setObjectName("data_folder")
        self.folder_label.setWordWrap(True)
        self.open_folder_button = QPushButton("&Open data folder")
        self.open_folder_button.setAutoDefault(False)  # Enter in a field saves, it does not open this
        self.open_folder_button.clicked.connect(self.open_data_folder)
        row.addWidget(self.folder_label, 1)
        row.addWidget(self.open_folder_button)
        self.add_field(
            "data_folder",
            "Data folder",
            folder,
            "Your database, its backups and these settings (Help › About shows the log file's place)",
        )

    def open_data_folder(self) -> bool:
        folder = data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def submit(self) -> None:
        result = check_preferences(
            server=self.server.text(),
            paper=self.paper.currentData(),
            sync_minutes=self.sync_minutes.text(),
            reminders=self.reminders.isChecked(),
            appearance=self.appearance.currentData(),
            cadence={kind: box.text() for kind, box in self.cadence.items()},
        )
        if not isinstance(result, Preferences):
            self.show_errors(result)
            return
        save_preferences(result)
        self.show_errors({})
        self.saved.emit(result)
        self.accept()
