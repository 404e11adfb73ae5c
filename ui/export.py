"""File › Export contacts… and File › Export account history…: what to export, then where; the
writing runs on the task runner's long lane (``models.services.export``)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QFileDialog, QRadioButton, QVBoxLayout, QWidget

from models.errors import ValidationError
from models.paths import data_dir
from models.services.export import contacts_for_export, export_account, safe_name, write_contacts
from ui.context import AppContext
from ui.field_editors import AccountCombo
from ui.forms import FormDialog

if TYPE_CHECKING:
    from ui.main_window import MainWindow

FORMATS = {"vcf": "vCard 4.0 (.vcf): address books, phones, other CRMs", "csv": "CSV (.csv): spreadsheets"}


def _export_button(dialog: FormDialog) -> None:
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    if save is not None:
        save.setText("&Export…")


class ExportContactsDialog(FormDialog):
    """Which contacts (all, the list's filter, the selection) and which format."""

    chosen = Signal(object, object)  # {"ids" | "search"+"kind"}, format ("vcf" / "csv")

    def __init__(
        self,
        ctx: AppContext,
        *,
        selected: list[uuid.UUID],
        search: str,
        kind: str | None,
        shown: int | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Export contacts", parent)
        self.setObjectName("export_contacts")
        self.selected, self.search, self.kind = selected, search, kind
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        self.all_button = QRadioButton("&All contacts")
        filtered = bool(search.strip()) or kind is not None
        if not filtered:
            label = "The contacts the &list shows (the list is not filtered now)"
        else:
            what = f"“{search.strip()}”" if search.strip() else "the kind chosen"
            count = f"{shown:,} " if shown is not None else ""
            label = f"The {count}contacts the &list shows (filtered by {what})"
        self.filter_button = QRadioButton(label)
        self.filter_button.setEnabled(filtered)
        n = len(selected)
        self.selection_button = QRadioButton(f"The &selected contact{'s' if n != 1 else ''} ({n})")
        self.selection_button.setEnabled(n > 0)
        for button in (self.all_button, self.filter_button, self.selection_button):
            col.addWidget(button)
        (self.filter_button if filtered else self.all_button).setChecked(True)
        self.add_field("which", "Contacts", box)
        self.format = self.add_field("format", "Format", QComboBox())
        for key, label in FORMATS.items():
            self.format.addItem(label, key)
        _export_button(self)

    def submit(self) -> None:
        if self.selection_button.isChecked():
            which: dict[str, object] = {"ids": list(self.selected)}
        elif self.filter_button.isChecked():
            which = {"search": self.search, "kind": self.kind}
        else:
            which = {"search": "", "kind": None}
        self.accept()
        self.chosen.emit(which, self.format.currentData())


class ExportAccountDialog(FormDialog):
    """Which account, and a folder or a zip file."""

    chosen = Signal(object, bool)  # account id, as a zip

    def __init__(self, ctx: AppContext, current: uuid.UUID | None, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Export an account's history", parent)
        self.setObjectName("export_account")
        self.account = self.add_field(
            "account_id",
            "Account",
            AccountCombo(ctx, current),
            "Its people, notes, commitments, visits, feedback, purchases and thank-yous",
        )
        self.account.setItemText(0, "")  # no "none" here: an account must be chosen
        self.shape = self.add_field("shape", "Save as", QComboBox())
        self.shape.addItem("One zip file, to hand over or attach to an email", True)
        self.shape.addItem("A folder of files", False)
        _export_button(self)

    def submit(self) -> None:
        try:
            account_id = self.account.account_id()
        except ValidationError as exc:
            self.show_errors(exc.field_errors)
            return
        if account_id is None:
            self.show_errors({"account_id": "Choose the account to export"})
            return
        self.accept()
        self.chosen.emit(account_id, bool(self.shape.currentData()))


class WindowExports(QObject):
    """The window's side: the dialogs, the file choice, the work off the GUI thread."""

    exported = Signal(str)  # what the status bar said (tests)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.folder = Path.home() if Path.home().is_dir() else data_dir()

    def export_contacts(self) -> ExportContactsDialog:
        view = self.window.contacts
        dialog = ExportContactsDialog(
            self.window.ctx,
            selected=view.selected_ids(),
            search=view.filter.text(),
            kind=view.kind.currentData(),
            shown=view.shown_count,
            parent=self.window,
        )
        dialog.chosen.connect(self._on_contacts_chosen)
        self.dialog: FormDialog = dialog
        dialog.open()
        return dialog

    def _on_contacts_chosen(self, which: dict[str, object], fmt: str) -> None:
        name = f"contacts.{fmt}"
        path, _ = QFileDialog.getSaveFileName(
            self.window,
            "Export contacts",
            str(self.folder / name),
            FORMATS[fmt].split(":")[0] + f" (*.{fmt})",
        )
        if path:
            self.write_contacts(which, Path(path).with_suffix(f".{fmt}"))

    def write_contacts(self, which: dict[str, object], path: Path) -> None:
        db = self.window.ctx.db
        self.folder = path.parent

        def work() -> int:
            with db.read() as s:
                ids = which.get("ids")
                kind = which.get("kind")
                rows = contacts_for_export(
                    s,
                    ids=list(ids) if isinstance(ids, list) else None,
                    search=str(which.get("search") or ""),
                    kind=kind if isinstance(kind, str) else None,
                )
            return write_contacts(rows, path)

        self.window.statusBar().showMessage("Exporting contacts…")
        self.window.ctx.tasks.long(
            work, lambda n: self._done(f"Exported {n:,} contact{'s' if n != 1 else ''} to {path}")
        )

    def export_account(self) -> ExportAccountDialog:
        dialog = ExportAccountDialog(self.window.ctx, self._account_on_screen(), self.window)
        dialog.chosen.connect(self._on_account_chosen)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _account_on_screen(self) -> uuid.UUID | None:
        """The account page shown, else the account of the contact on screen."""
        window = self.window
        if window.stack.currentWidget() is window.accounts and window.accounts.page is not None:
            return window.accounts.page.account.id
        contact = window.contacts.detail.contact_id
        row = window.contacts.model.row_at(window.contacts.model.row_of(contact)) if contact else None
        return row.account_id if row is not None else None

    def _on_account_chosen(self, account_id: uuid.UUID, as_zip: bool) -> None:
        name = self.dialog.findChild(AccountCombo)
        base = safe_name(name.currentText() if name is not None else "account")
        if as_zip:
            path, _ = QFileDialog.getSaveFileName(
                self.window, "Export account history", str(self.folder / f"{base}.zip"), "Zip file (*.zip)"
            )
            target = Path(path).with_suffix(".zip") if path else None
        else:
            parent = QFileDialog.getExistingDirectory(
                self.window, "Export account history into", str(self.folder)
            )
            target = Path(parent) / base if parent else None
        if target is not None:
            self.write_account(account_id, target, as_zip=as_zip)

    def write_account(self, account_id: uuid.UUID, target: Path, *, as_zip: bool) -> None:
        db = self.window.ctx.db
        self.folder = target.parent

        def work() -> str:
            with db.read() as s:
                return str(export_account(s, account_id, target, as_zip=as_zip))

        self.window.statusBar().showMessage("Exporting the account's history…")
        self.window.ctx.tasks.long(work, lambda counts: self._done(f"Exported {counts} to {target}"))

    def _done(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 15_000)
        self.exported.emit(message)
