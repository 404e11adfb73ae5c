"""The import's dialogs: which CSV column is which, the preview, and past imports to undo."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from models.services import contact_csv
from models.services.contact_csv import CsvTable
from models.services.importing import ImportHistoryRow, ImportPlan
from ui.plural import plural


class MappingDialog(QDialog):
    """One choice per column of a CSV file Rapport does not know, with a sample value beside it."""

    def __init__(
        self, name: str, table: CsvTable, guess: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("import_mapping")
        self.setWindowTitle(f"Columns of {name}")
        intro = QLabel(
            "Rapport does not know this file's columns. Say what each one holds; columns left out "
            "are not imported. Rapport remembers your choice for files with these columns."
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        self.combos: list[QComboBox] = []
        sample = table.rows[0][1] if table.rows else ()
        for i, header in enumerate(table.headers):
            combo = QComboBox()
            combo.setObjectName(f"column_{i}")
            for key, label in contact_csv.FIELDS.items():
                combo.addItem(label, key)
            combo.setCurrentIndex(max(0, combo.findData(guess[i] if i < len(guess) else "")))
            value = sample[i].strip().replace("\n", " ") if i < len(sample) else ""
            shown = value if len(value) <= 30 else value[:29] + "…"
            caption = QLabel(f"{header or f'Column {i + 1}'}" + (f"  (e.g. “{shown}”)" if shown else ""))
            caption.setBuddy(combo)
            form.addRow(caption, combo)
            self.combos.append(combo)
        holder = QWidget()
        holder.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidget(holder)
        scroll.setWidgetResizable(True)
        self.problem = QLabel()
        self.problem.setObjectName("mapping_problem")
        self.problem.setStyleSheet("color: #b00020")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.next_button = self.buttons.addButton("&Next", QDialogButtonBox.ButtonRole.AcceptRole)
        self.next_button.setDefault(True)
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(560, min(620, 160 + 34 * len(table.headers)))

    def mapping(self) -> list[str]:
        return [str(c.currentData()) for c in self.combos]

    def _check(self) -> None:
        why = contact_csv.check_mapping(self.mapping())
        self.problem.setText(why)
        if not why:
            self.accept()


def _list(items: Sequence[str], name: str) -> QListView:
    # Model/view: a file of 10,000 cards lists 10,000 names.
    view = QListView()
    view.setObjectName(name)
    view.setModel(QStringListModel(list(items), view))
    view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
    view.setUniformItemSizes(True)
    return view


class PreviewDialog(QDialog):
    """What the import will do; nothing is written until the rep presses Import."""

    def __init__(self, name: str, fmt: str, plan: ImportPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("import_preview")
        self.setWindowTitle(f"Import {name}")
        filled = [m for m in plan.merges if not m.into_new]
        same = [m for m in plan.merges if m.into_new]
        unit = "card" if fmt == "vCard" else "row"
        lines = [
            f"<b>{name}</b> ({fmt}): {plural(plan.cards, unit)}.",
            f"<b>{plural(len(plan.new), 'new contact')}</b>"
            + (f", with {plural(len(plan.new_accounts), 'new account')}" if plan.new_accounts else "")
            + ".",
            f"<b>{plan.matched - len(same):,}</b> already in your contacts (same email, phone, or name "
            f"and company): {len(filled):,} to fill in, {len(plan.unchanged):,} up to date. "
            "Nothing you typed is overwritten.",
        ]
        if same:
            lines.append(
                f"{plural(len(same), unit)} repeat someone met earlier in the file: merged into one."
            )
        if plan.skipped:
            lines.append(f"<b>{plural(len(plan.skipped), unit)} skipped</b> (see below).")
        summary = QLabel("<br>".join(lines))
        summary.setObjectName("import_summary")
        summary.setWordWrap(True)
        summary.setTextFormat(Qt.TextFormat.RichText)
        self.tabs = QTabWidget()
        self.tabs.addTab(_list(plan.new, "new_list"), f"New ({len(plan.new):,})")
        merges = [f"{m.contact_name} ← {m.where}: {', '.join(m.fills)}" for m in filled]
        merges += [f"{m.contact_name} (new) ← {m.where}" for m in same]
        self.tabs.addTab(_list(merges, "merge_list"), f"Filled in ({len(merges):,})")
        self.tabs.addTab(
            _list([f"{s.where}: {s.why}" for s in plan.skipped], "skipped_list"),
            f"Skipped ({len(plan.skipped):,})",
        )
        self.tabs.addTab(_list(plan.warnings, "warning_list"), f"Values left out ({len(plan.warnings):,})")
        if plan.skipped and not plan.new and not filled:
            self.tabs.setCurrentIndex(2)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        label = "&Import" if plan.writes else "Nothing to import"
        if plan.writes:
            label = f"&Import {plural(len(plan.new), 'new contact')}" if plan.new else "&Import (fill in)"
        self.import_button: QPushButton = self.buttons.addButton(
            label, QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setObjectName("import_button")
        self.import_button.setEnabled(plan.writes)
        self.import_button.setDefault(plan.writes)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)
        self.resize(640, 480)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # The button box picks its own default when shown: Enter must import, focus starts there.
        if self.import_button.isEnabled():
            self.import_button.setDefault(True)
            self.import_button.setFocus()


class ImportHistoryDialog(QDialog):
    """Past imports, newest first; one can be undone as a whole."""

    def __init__(self, rows: Sequence[ImportHistoryRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("import_history")
        self.setWindowTitle("Undo an import")
        intro = QLabel(
            "Undoing an import moves the contacts it created to the Trash and empties what it filled "
            "in, unless you changed that since."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("import_list")
        for row in rows:
            when = row.at.astimezone().strftime("%d %b %Y %H:%M")
            text = f"{when}  {row.source}: {plural(row.created, 'new contact')}, {row.merged:,} filled in"
            item = QListWidgetItem(text + ("  (undone)" if row.undone else ""))
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            if row.undone:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(item)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.undo_button = self.buttons.addButton("&Undo this import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.undo_button.setEnabled(False)
        self.list.currentItemChanged.connect(
            lambda item, _old: self.undo_button.setEnabled(
                item is not None and bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
            )
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.buttons)
        if not rows:
            layout.insertWidget(1, QLabel("No contacts have been imported on this laptop yet."))
        self.resize(560, 360)

    def chosen(self) -> object:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)
