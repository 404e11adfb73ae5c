"""Edit › Preferences…: the rep's settings in one form, saved to ``settings.ini`` only when every
field is valid (a wrong one is explained under it, and nothing is written)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from models.paths import data_dir
from models.services import cadence
from models.services.contacts import KINDS
from ui.appearance import follow_appearance
from ui.context import AppContext
from ui.forms import FormDialog
from ui.printing.render import default_paper
from ui.reminders import reminders_hint
from ui.settings import (
    APPEARANCES,
    BACKUP_DAYS,
    PAPERS,
    SYNC_MINUTES,
    Preferences,
    check_preferences,
    load_preferences,
    save_preferences,
)

if TYPE_CHECKING:
    from ui.main_window import MainWindow

CADENCE_LABELS = {
    "customer": "Customers",
    "partner": "Partners",
    "supplier": "Suppliers",
    "colleague": "Colleagues",
    "other": "Other contacts",
}


def _beside(main: QWidget, button: QPushButton) -> QWidget:
    """A field with its button on the right."""
    button.setAutoDefault(False)  # Enter in a field saves, it does not press this
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(main, 1)
    row.addWidget(button)
    return box


class PreferencesDialog(FormDialog):
    """``saved`` carries the new :class:`Preferences`; the window applies them at once."""

    def __init__(
        self, ctx: AppContext, prefs: Preferences, signed_in: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, "Preferences", parent)
        self.setObjectName("preferences")
        self._prefs = prefs
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
            QCheckBox("Remind me of commitments due today, visits within the hour and birthdays"),
            reminders_hint(),
        )
        self.reminders.setChecked(prefs.reminders)
        self.appearance = self.add_field("appearance", "Appearance", QComboBox())
        for key, label in APPEARANCES.items():
            self.appearance.addItem(label, key)
        self.appearance.setCurrentIndex(max(0, self.appearance.findData(prefs.appearance)))
        self.backup_folder = QLineEdit(prefs.backup_folder)
        self.backup_folder.setPlaceholderText(f"The data folder ({data_dir()})")
        self.backup_folder.setObjectName("backup_folder")
        self.choose_backup_button = QPushButton("C&hoose…")
        self.choose_backup_button.clicked.connect(self.choose_backup_folder)
        self.add_field(
            "backup_folder",
            "Back up to",
            _beside(self.backup_folder, self.choose_backup_button),
            "A backup is made once a day while Rapport runs; empty: the data folder",
        )
        self.backup_days = self.add_field(
            "backup_days",
            "Keep backups for",
            QLineEdit(str(prefs.backup_days)),
            f"Days, {BACKUP_DAYS[0]} to {BACKUP_DAYS[1]}; the newest backup is always kept",
        )
        self.folder_label = QLabel(str(data_dir()))
        self.folder_label.setObjectName("data_folder")
        self.folder_label.setWordWrap(True)
        self.open_folder_button = QPushButton("&Open data folder")
        self.open_folder_button.clicked.connect(self.open_data_folder)
        self.add_field(
            "data_folder",
            "Data folder",
            _beside(self.folder_label, self.open_folder_button),
            "Your database, its backups and these settings (Help › About shows the log file's place)",
        )
        self._add_playbook()

    # -- cadence defaults and follow-ups (kept in the database: the services read them) ---------
    def _add_playbook(self) -> None:
        self.cadence: dict[str, QLineEdit] = {}
        self.cadence_max: dict[str, QLineEdit] = {}
        self.tier_ideal: dict[str, QLineEdit] = {}
        self.tier_max: dict[str, QLineEdit] = {}
        self.playbook_loaded = False
        self._followups = QWidget()
        row = QHBoxLayout(self._followups)
        row.setContentsMargins(0, 0, 0, 0)
        self.followup_first, self.followup_second = QLineEdit(), QLineEdit()
        for box in (self.followup_first, self.followup_second):
            box.setMaximumWidth(70)
            box.setEnabled(False)  # until the saved values are read
        row.addWidget(self.followup_first)
        row.addWidget(QLabel("and"))
        row.addWidget(self.followup_second)
        row.addWidget(QLabel("days after a purchase"), 1)
        self.add_field("followups", "Follow up after a sale", self._followups, "Listed on Today until done")
        for i, kind in enumerate(KINDS):
            hint = (
                "Days: check in every…, losing touch after…. For contacts without their own; "
                "an account tier's default comes first. Empty: none."
                if i == 0
                else ""
            )
            self.cadence[kind], self.cadence_max[kind] = self._pair(
                f"cadence_{kind}", CADENCE_LABELS.get(kind, kind.capitalize()), hint
            )
        self.ctx.query(cadence.playbook_settings, self._fill_playbook)

    def _pair(self, key: str, label: str, hint: str) -> tuple[QLineEdit, QLineEdit]:
        pair = QWidget()
        row = QHBoxLayout(pair)
        row.setContentsMargins(0, 0, 0, 0)
        ideal, maximum = QLineEdit(), QLineEdit()
        ideal.setObjectName(f"{key}_ideal")
        maximum.setObjectName(f"{key}_max")
        for box in (ideal, maximum):
            box.setMaximumWidth(70)
            box.setEnabled(False)
        row.addWidget(QLabel("every"))
        row.addWidget(ideal)
        row.addWidget(QLabel("days; losing touch after"))
        row.addWidget(maximum)
        row.addStretch(1)
        self.add_field(key, label, pair, hint)
        return ideal, maximum

    def _fill_playbook(self, settings: cadence.PlaybookSettings) -> None:
        def put(box: QLineEdit, days: int | None) -> None:
            box.setText("" if days is None else str(days))
            box.setEnabled(True)

        for kind in KINDS:
            cad = settings.defaults.kinds.get(kind, cadence.Cadence())
            put(self.cadence[kind], cad.ideal)
            put(self.cadence_max[kind], cad.maximum)
        # Rows added now would come after the buttons in Tab's order: chain them after the kinds.
        previous: QWidget = self.cadence_max[KINDS[-1]]
        for i, tier in enumerate(settings.tiers):
            hint = "Account tiers come first, then the kind" if i == 0 else ""
            self.tier_ideal[tier], self.tier_max[tier] = self._pair(
                f"tier_{tier}", f"Tier {tier} accounts", hint
            )
            cad = settings.defaults.tiers.get(tier, cadence.Cadence())
            put(self.tier_ideal[tier], cad.ideal)
            put(self.tier_max[tier], cad.maximum)
            QWidget.setTabOrder(previous, self.tier_ideal[tier])
            QWidget.setTabOrder(self.tier_ideal[tier], self.tier_max[tier])
            previous = self.tier_max[tier]
        put(self.followup_first, settings.followup_days[0])
        put(self.followup_second, settings.followup_days[1])
        self.playbook_loaded = True

    def _checked_playbook(
        self,
    ) -> tuple[cadence.CadenceDefaults, tuple[int, int]] | dict[str, str] | None:
        if not self.playbook_loaded:
            return None  # not read yet: nothing of it to save
        return cadence.check_defaults(
            {k: (self.cadence[k].text(), self.cadence_max[k].text()) for k in self.cadence},
            {t: (self.tier_ideal[t].text(), self.tier_max[t].text()) for t in self.tier_ideal},
            (self.followup_first.text(), self.followup_second.text()),
        )

    def choose_backup_folder(self) -> None:
        start = self.backup_folder.text().strip() or str(data_dir())
        chosen = QFileDialog.getExistingDirectory(self, "Back up to", start)
        if chosen:
            self.backup_folder.setText(chosen)

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
            cadence={k: "" if v is None else str(v) for k, v in self._prefs.cadence.items()},
            backup_folder=self.backup_folder.text(),
            backup_days=self.backup_days.text(),
        )
        playbook = self._checked_playbook()
        if not isinstance(result, Preferences) or isinstance(playbook, dict):
            errors = result if isinstance(result, dict) else {}
            self.show_errors(errors | (playbook if isinstance(playbook, dict) else {}))
            return
        save_preferences(result)
        if playbook is not None:
            defaults, followups = playbook
            self.ctx.act(lambda s: cadence.save_playbook(s, defaults, followups))
        self.show_errors({})
        self.saved.emit(result)
        self.accept()


class WindowPreferences(QObject):
    """The window's side of Preferences: what is in force, the form, and applying a change at
    once (the sync timer, the Visits page's paper, the appearance) rather than at the next start."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.current = load_preferences()
        self.apply()
        # Earlier versions kept a "new contact" cadence per kind in settings.ini; it becomes the
        # kind's default in the database once (where the services read it at every check).
        if any(self.current.cadence.values()) and not window.sample:
            seed = dict(self.current.cadence)
            window.ctx.act(lambda s: cadence.seed_kind_defaults(s, seed))

    def paper(self) -> str:
        return self.current.paper or default_paper()

    def apply(self) -> None:
        self.window.sync.set_interval(self.current.sync_minutes * 60_000)
        self.window.visits.paper.setCurrentText(self.paper())
        self.window.reminders.set_enabled(self.current.reminders)

    def edit(self) -> PreferencesDialog:
        status = self.window.sync.status
        linked = f"{status.server} as {status.username}" if status and status.linked else ""
        dialog = PreferencesDialog(self.window.ctx, self.current, linked, self.window)
        dialog.saved.connect(self._on_saved)
        dialog.open()
        return dialog

    def remember_server(self, server: str) -> None:
        """The address signed in to is the one Preferences shows and the next sign-in proposes."""
        self.current = replace(self.current, server=server.strip().rstrip("/"))
        save_preferences(self.current)

    def _on_saved(self, prefs: Preferences) -> None:
        old, self.current = self.current, prefs
        self.apply()
        follow_appearance(prefs.appearance)  # the whole application's, set at start by ui/app.py
        status = self.window.sync.status
        here = status is not None and status.linked and status.server == prefs.server
        if prefs.server and prefs.server != old.server and not self.window.sample and not here:
            self.window.sign_in(prefs.server)  # a new address takes effect by signing in there
