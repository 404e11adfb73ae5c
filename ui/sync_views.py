"""Sync on screen: the sign-in dialog, and the page that lists conflicts and rejected changes
with Re-apply and Dismiss (nothing the server set aside is ever silently dropped)."""

from __future__ import annotations

import json

from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from models import errors
from sync import conflicts as conflict_service
from sync import errors as sync_errors
from sync.status import ConflictItem, RejectionItem, dismiss_rejection, review_items
from ui.context import AppContext, RefreshWhenShown
from ui.forms import FormDialog
from ui.sync_controller import SyncController
from ui.table import Column, RowsModel, day_text, make_table, on_selection, refill, selected_row

KIND_TEXT = {
    "field": "Both changed it",
    "note_copy": "Note edited on two laptops (a copy keeps the other text)",
    "delete_edit": "Edited after it was deleted",
    "orphan": "Added under something deleted elsewhere",
}


def value_text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    return json.dumps(value)


class SignInDialog(FormDialog):
    """Server address, user name, password; the token goes to the OS keychain."""

    def __init__(self, ctx: AppContext, sync: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Sign in to the sync server", parent)
        self.sync = sync
        status = sync.status
        self.server = self.add_field("server", "Server", QLineEdit(status.server or "" if status else ""))
        self.server.setPlaceholderText("https://sync.example.com")
        self.username = self.add_field(
            "username", "User name", QLineEdit(status.username or "" if status else "")
        )
        self.password = self.add_field("password", "Password", QLineEdit())
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.keychain_saved: bool | None = None
        self.sign_in_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.sign_in_button.setText("Sign in")
        self._trying = False

    def submit(self) -> None:
        errs = {}
        if not self.server.text().strip().startswith(("http://", "https://")):
            errs["server"] = "Give the server's address, starting with https://"
        if not self.username.text().strip():
            errs["username"] = "A user name is required"
        if not self.password.text():
            errs["password"] = "A password is required"
        self.show_errors(errs)
        if errs:
            return
        # Only the Sign in button waits: Cancel stays usable while the server is tried.
        self.sign_in_button.setEnabled(False)
        self.sign_in_button.setText("Signing in…")
        self._trying = True
        self.sync.sign_in(
            self.server.text(), self.username.text(), self.password.text(), self._signed_in, self._refused
        )

    def reject(self) -> None:
        if self._trying:
            self.sync.cancel_sign_in()
            self._trying = False
        super().reject()

    def _done_trying(self) -> bool:
        """False when the rep cancelled meanwhile: the answer is for nobody."""
        if not self._trying:
            return False
        self._trying = False
        self.sign_in_button.setEnabled(True)
        self.sign_in_button.setText("Sign in")
        return True

    def _signed_in(self, saved: bool) -> None:
        if not self._done_trying():
            return
        self.keychain_saved = saved
        self.saved.emit(saved)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if not self._done_trying() or isinstance(exc, errors.Cancelled):
            return
        server = self.server.text().strip()
        if isinstance(exc, sync_errors.AuthRejected):  # its own text speaks of the command line
            self.password.clear()
            self.show_errors({"password": "The server did not accept this user name and password."})
        elif isinstance(exc, sync_errors.ServerUnreachable):
            self.show_message(
                f"Rapport could not reach a sync server at {server}. Check the address and that "
                "this laptop is online, then try again. Your work stays on this laptop meanwhile."
            )
        elif isinstance(exc, errors.RapportError):
            self.show_message(str(exc))
        else:
            self.ctx.presenter.present(exc, self)


class ConflictsView(QWidget):
    """Conflicts and rejected changes: what was kept, what was set aside, who, when."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.conflicts = RowsModel[ConflictItem](
            [
                Column("What", lambda r: f"{r.entity.capitalize()} “{r.title}”", width=220),
                Column("Field", lambda r: r.field or "", width=90),
                Column("Kept", lambda r: value_text(r.kept), width=170),
                Column("Set aside", lambda r: value_text(r.lost), width=170),
                Column("Why", lambda r: KIND_TEXT.get(r.kind, r.kind), width=200),
                Column("Kept value by", lambda r: r.user_name, width=100),
                Column("When", lambda r: r.at[:16].replace("T", " ")),
            ],
            self,
        )
        self.conflict_view = make_table(self.conflicts, name="conflicts_table")
        self.reapply_button = QPushButton("Re-apply the value set aside")
        self.dismiss_button = QPushButton("Dismiss")
        self.reapply_button.clicked.connect(self.reapply)
        self.dismiss_button.clicked.connect(self.dismiss)
        self.rejections = RowsModel[RejectionItem](
            [
                Column("What", lambda r: f"{r.entity.capitalize()} “{r.title}”", width=220),
                Column("Change", lambda r: f"{r.op}: {value_text(r.patch)}", width=260),
                Column("Why the server refused it", lambda r: r.reason, width=300),
                Column("When", lambda r: day_text(r.at)),
            ],
            self,
        )
        self.rejection_view = make_table(self.rejections, name="rejections_table")
        self.dismiss_rejection_button = QPushButton("Dismiss")
        self.dismiss_rejection_button.clicked.connect(self.dismiss_rejected)
        self.empty = QLabel("Nothing to review: every change synced without a clash.")
        on_selection(self.conflict_view, self._update_buttons)
        on_selection(self.rejection_view, self._update_buttons)
        self._update_buttons()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("<b>Conflicts</b> — both values are kept: the one in use and the one set aside"))
        bar.addStretch(1)
        bar.addWidget(self.reapply_button)
        bar.addWidget(self.dismiss_button)
        layout.addLayout(bar)
        layout.addWidget(self.conflict_view, 2)
        bar2 = QHBoxLayout()
        bar2.addWidget(QLabel("<b>Changes the server refused</b> — kept here so you can redo them"))
        bar2.addStretch(1)
        bar2.addWidget(self.dismiss_rejection_button)
        layout.addLayout(bar2)
        layout.addWidget(self.rejection_view, 1)
        self.refresher = RefreshWhenShown(self, self.reload)
        ctx.bus.changed.connect(lambda _e: self.refresher.request())

    def reload(self) -> None:
        self.ctx.query(review_items, self._fill)

    def _fill(self, items: tuple[list[ConflictItem], list[RejectionItem]]) -> None:
        conflicts, rejections = items
        refill(self.conflict_view, self.conflicts, conflicts)
        refill(self.rejection_view, self.rejections, rejections)
        self.empty.setVisible(not conflicts and not rejections)

    def _selected_conflict(self) -> ConflictItem | None:
        return selected_row(self.conflict_view, self.conflicts)

    def _update_buttons(self) -> None:
        chosen = self._selected_conflict() is not None
        self.reapply_button.setEnabled(chosen)
        self.dismiss_button.setEnabled(chosen)
        rejected = selected_row(self.rejection_view, self.rejections)
        self.dismiss_rejection_button.setEnabled(rejected is not None)

    def reapply(self) -> None:
        item = self._selected_conflict()
        if item is not None:
            self.ctx.act(
                lambda s: conflict_service.reapply(s, item.id), lambda _r: self.ctx.bus.notify({"conflict"})
            )

    def dismiss(self) -> None:
        item = self._selected_conflict()
        if item is not None:
            self.ctx.act(
                lambda s: conflict_service.dismiss(s, item.id), lambda _r: self.ctx.bus.notify({"conflict"})
            )

    def dismiss_rejected(self) -> None:
        item = selected_row(self.rejection_view, self.rejections)
        if item is not None:
            self.ctx.act(
                lambda s: dismiss_rejection(s, item.id), lambda _r: self.ctx.bus.notify({"conflict"})
            )
