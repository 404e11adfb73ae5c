"""The main window: a sidebar of pages (``PAGES``: Today, Visits, Contacts, Accounts, Commitments,
Conflicts, Trash), the menus with their shortcuts, the status bar (sync, undo), and undo for
deletes and status changes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QGuiApplication, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from models.demo import fill_demo
from models.entities import SYNCED_CLASSES
from models.errors import NotFoundError
from models.rows import CommitmentRow
from models.sample import is_sample, sample_db_path
from models.services import accounts, commitments, contacts, importing, notes
from models.services.merging import Merged
from ui.accounts_view import AccountsView
from ui.appearance import colour, icon, on_appearance_changed
from ui.backups import WindowBackups
from ui.commitments_view import CommitmentsView
from ui.contacts_view import ContactsView
from ui.context import AppContext
from ui.dialogs import CommitmentDialog, ContactDialog, NoteDialog
from ui.duplicates_view import DuplicatesDialog
from ui.export import WindowExports
from ui.help import AboutDialog, ShortcutsDialog
from ui.import_flow import ImportFlow, show_history
from ui.insights_view import InsightsDialog
from ui.preferences import WindowPreferences
from ui.printing.preview import BriefingPreview, save_briefing_pdf, show_briefing_preview
from ui.reminders import Reminders
from ui.search_palette import SearchPalette, open_hit
from ui.settings import app_settings
from ui.sync_controller import SyncController
from ui.sync_views import ConflictsView, SignInDialog
from ui.thanks_dialog import ThanksOfferBar, offer_for_kept
from ui.today_view import TodayView
from ui.trash_view import TrashView
from ui.undo import UndoOffer, account_delete_offer, delete_offer, merge_offer, status_offer
from ui.visits_view import VisitsView

PAGES = ("Today", "Visits", "Contacts", "Accounts", "Commitments", "Conflicts", "Trash")
DEMO_CONTACTS = 200
FIRST_SIZE = QSize(1200, 780)  # the first window, when the screen has room for it
# Room left for the window manager's frame before it is known (title bar, borders).
FRAME_ALLOWANCE = QSize(16, 40)


# Lucide icons (resources/icons/lucide) for the sidebar's pages and the menus' main actions.
PAGE_ICONS = ("sun", "calendar-days", "users", "building-2", "list-checks", "git-merge", "trash-2")
ACTION_ICONS = {
    "new_contact": "user-plus",
    "new_account": "building",
    "new_note": "notebook-pen",
    "new_commitment": "list-plus",
    "print_briefing": "printer",
    "save_briefing": "file-down",
    "import_contacts": "file-up",
    "leave_sample": "house",
    "try_sample": "flask-conical",
    "quit": "log-out",
    "undo": "undo-2",
    "delete": "trash-2",
    "find": "search",
    "search_everything": "search",
    "preferences": "settings",
    "sync_now": "refresh-cw",
    "sign_in": "log-in",
    "review": "git-merge",
    "shortcuts": "keyboard",
    "about": "info",
}


class MainWindow(QMainWindow):
    undo_offered = Signal(str)  # what can be undone, for the status bar (and tests)
    # Open another database in place of this one: the sample database's path, or None for the
    # rep's own (the app shell in ui/app.py does the switch).
    switch_requested = Signal(object)
    # Put a backup (BackupInfo) in place of this database, the safety copy going to the folder
    # (Path): the app shell closes this window, restores, and opens the result.
    restore_requested = Signal(object, object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        with ctx.db.read() as s:  # one row of the meta table, before anything is shown
            self.sample = is_sample(s)
        # Qt adds " — Rapport" (the application's display name, ui/branding.py) on Linux and
        # Windows; macOS shows the name in the menu bar.
        if self.sample:
            self.setWindowTitle("Sample data (not your records)")
        else:
            self.setWindowTitle(ctx.db.path.name)
        self.setObjectName("main_window")
        self._undo: UndoOffer | None = None
        self.palette_dialog: SearchPalette | None = None
        self._fit_after_show = False

        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.addItems(list(PAGES))
        for i, name in enumerate(PAGE_ICONS):
            self.sidebar.item(i).setIcon(icon(name))
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.today = TodayView(ctx)
        self.visits = VisitsView(ctx)
        self.contacts = ContactsView(ctx)
        self.accounts = AccountsView(ctx)
        self.commitments = CommitmentsView(ctx)
        self.trash = TrashView(ctx)
        self.conflicts = ConflictsView(ctx)
        self.sync = SyncController(ctx, self)
        self.reminders = Reminders(ctx, self)
        self.stack = QStackedWidget()
        for view in (
            self.today,
            self.visits,
            self.contacts,
            self.accounts,
            self.commitments,
            self.conflicts,
            self.trash,
        ):
            self.stack.addWidget(view)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("main_splitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([225, 975])  # room for an icon and "Commitments (21 overdue)"
        self.setCentralWidget(self.splitter)
        self.sidebar.currentRowChanged.connect(self._on_page)

        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.hide()
        self.undo_button = QPushButton("Undo")
        self.undo_button.hide()
        self.undo_button.clicked.connect(self.undo_delete)
        self.statusBar().addPermanentWidget(self.undo_button)
        self.statusBar().addPermanentWidget(self.busy)
        self.sync_label = QLabel()
        self.sync_label.setObjectName("sync_status")
        self.statusBar().addPermanentWidget(self.sync_label)
        self.sync_button = QPushButton("Sync")
        self.sync_button.setObjectName("sync_button")
        self.sync_button.setIcon(icon("refresh-cw"))
        self.sync_button.setToolTip("Sync with the team's server now (F5)")
        self.sync_button.clicked.connect(self._on_sync_button)
        self.statusBar().addPermanentWidget(self.sync_button)
        self.db_label = QLabel(ctx.db.path.name)
        self.db_label.setToolTip(str(ctx.db.path))
        self.statusBar().addPermanentWidget(self.db_label)
        if self.sample:
            self._label_as_sample()
        self.sync.status_changed.connect(self.sync_label.setText)
        self.sync.status_changed.connect(lambda _t: self._on_sync_status())
        self.sync.progressed.connect(lambda text: self.statusBar().showMessage(text, 5_000))
        self.sync.sync_started.connect(self._on_sync_started)
        self.sync.sync_finished.connect(self._on_synced)
        self.sync.sync_failed.connect(self._on_sync_failed)
        self.sync.login_needed.connect(self.sign_in)
        ctx.tasks.busy_changed.connect(self.busy.setVisible)

        self._build_menus()
        self.contacts.demo_requested.connect(self.try_sample)
        self.contacts.import_requested.connect(lambda: self.import_contacts())
        self.contacts.new_requested.connect(self.new_contact)
        self.contacts.detail.delete_requested.connect(lambda cid, name: self.delete("contact", cid, name))
        self.contacts.detail.row_delete_requested.connect(self.delete)
        self.contacts.detail.print_requested.connect(self.print_briefing)
        self.contacts.detail.status_set.connect(self.offer_status_undo)
        self.commitments.status_set.connect(self.offer_status_undo)
        self._install_thanks_offers()
        self.trash.restored.connect(self._on_restored_from_trash)
        # Ctrl+Z in a filter box means "undo the delete" while one is offered, not "undo typing".
        for box in (self.contacts.filter, self.accounts.filter, self.commitments.filter):
            box.installEventFilter(self)
        self.accounts.delete_requested.connect(self.delete_account)
        self.accounts.print_requested.connect(self.print_briefing)
        for view in (self.today, self.accounts, self.commitments):
            view.contact_open_requested.connect(self.open_contact)
        self.today.board_loaded.connect(lambda board: self._on_overdue_counted(board.overdue_commitments))
        self.preferences = WindowPreferences(self)
        self.backups = WindowBackups(self)
        self.exports = WindowExports(self)
        on_appearance_changed(self._on_appearance_changed)
        self.restore_state()

    # -- set-up --------------------------------------------------------------------------------
    def _install_thanks_offers(self) -> None:
        """A thank-you offered in the status bar after a purchase, a referral or a promise kept
        (permanent: the undo messages shown at the same moment must not hide it)."""
        self.thanks_offer = ThanksOfferBar(self.ctx, self)
        self.statusBar().insertPermanentWidget(0, self.thanks_offer)
        self.addAction(self.thanks_offer.take_action)
        for done in (self.contacts.detail.status_set, self.commitments.status_set):
            done.connect(lambda row, status: offer_for_kept(self.ctx, row, status))

    def _action(
        self,
        menu_title: str,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        name: str = "",
    ) -> QAction:
        menu = self._menus.get(menu_title) or self.menuBar().addMenu(menu_title)
        self._menus[menu_title] = menu
        action = QAction(text, self)
        action.setObjectName(name)
        if name in ACTION_ICONS:
            action.setIcon(icon(ACTION_ICONS[name]))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        self._menus: dict[str, QMenu] = {}
        key = QKeySequence.StandardKey
        self.new_contact_action = self._action(
            "&File", "New &contact…", self.new_contact, key.New, "new_contact"
        )
        self._action("&File", "New &account…", self.accounts.new_account, "Ctrl+Shift+A", "new_account")
        self.new_note_action = self._action("&File", "New &note…", self.new_note, "Ctrl+Shift+N", "new_note")
        self.new_commitment_action = self._action(
            "&File", "New co&mmitment…", self.new_commitment, "Ctrl+Shift+C", "new_commitment"
        )
        self._menus["&File"].addSeparator()
        self._action("&File", "&Print briefing…", self.print_current, key.Print, "print_briefing")
        self._action(
            "&File", "Save briefing as P&DF…", self.save_current_pdf, "Ctrl+Shift+P", "save_briefing"
        )
        self._menus["&File"].addSeparator()
        self.import_action = self._action(
            "&File", "&Import contacts…", self.import_contacts, "Ctrl+O", "import_contacts"
        )
        self.backup_action = self._action(
            "&File", "&Back up now", lambda: self.backups.back_up(), "Ctrl+Shift+B", "back_up"
        )
        self.restore_action = self._action(
            "&File", "&Restore from backup…", lambda: self.backups.choose_restore(), None, "restore_backup"
        )
        self._action(
            "&File",
            "&Export contacts…",
            lambda: self.exports.export_contacts(),
            "Ctrl+Shift+E",
            "export_contacts",
        )
        self._action(
            "&File", "Export account &history…", lambda: self.exports.export_account(), None, "export_account"
        )
        for action in (self.backup_action, self.restore_action):
            action.setEnabled(not self.sample)  # sample data is not the rep's to keep
        self._menus["&File"].addSeparator()
        if self.sample:
            self._action("&File", "Back to &my records", self.leave_sample, None, "leave_sample")
        else:
            self._action("&File", "Try with &sample data", self.try_sample, None, "try_sample")
        self._action("&File", "&Quit", self.close, key.Quit, "quit")
        self.undo_action = self._action("&Edit", "&Undo", self.undo_delete, key.Undo, "undo")
        self.undo_action.setEnabled(False)
        self.undo_import_action = self._action(
            "&Edit", "Undo an i&mport…", self.show_imports, None, "undo_import"
        )
        if self.sample:  # the rep's contacts belong in their own records, not in the sample's
            for action in (self.import_action, self.undo_import_action):
                action.setEnabled(False)
        self.delete_action = self._action("&Edit", "&Delete", self.delete_current, key.Delete, "delete")
        self.find_action = self._action("&Edit", "&Find…", self.focus_find, key.Find, "find")
        self.search_action = self._action(
            "&Edit", "&Search everything…", self.search_everything, "Ctrl+K", "search_everything"
        )
        self.duplicates_action = self._action(
            "&Edit", "Find d&uplicates…", self.find_duplicates, None, "find_duplicates"
        )
        self._menus["&Edit"].addSeparator()
        self.preferences_action = self._action(
            "&Edit", "&Preferences…", lambda: self.preferences.edit(), "Ctrl+,", "preferences"
        )
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.sync_action = self._action("&Sync", "Sync &now", lambda: self.sync.sync_now(), "F5", "sync_now")
        self._action("&Sync", "&Sign in…", self.sign_in, None, "sign_in")
        self._action(
            "&Sync", "&Review conflicts", lambda: self.show_page(PAGES.index("Conflicts")), None, "review"
        )
        if self.sample:
            for action in self._menus["&Sync"].actions():
                action.setEnabled(False)
        for i, title in enumerate(PAGES):
            self._action("&View", title, partial(self.show_page, i), f"Ctrl+{i + 1}", f"page_{title.lower()}")
        self._menus["&View"].addSeparator()
        self._action("&View", "Satisfaction and &trust…", self.show_insights, "Ctrl+Shift+I", "insights")
        self._action("&Help", "&Keyboard shortcuts", self.show_shortcuts, "F1", "shortcuts")
        self._action("&Help", "&About Rapport", self.show_about, None, "about").setMenuRole(
            QAction.MenuRole.AboutRole
        )

    def start(self) -> None:
        """Load the first screens (off the GUI thread) once the window is up."""
        self.contacts.start()
        if not self.sample:
            self.sync.start()
        self.backups.start()
        self.visits.refresh()
        self.today.reload()
        self.today.list.setFocus()  # the start screen answers the arrow keys and N, D, S... at once
        # The other pages load when first shown (their refreshers start out stale).
        for view in (self.accounts, self.commitments, self.trash, self.conflicts):
            view.refresher.request()

    # -- navigation ----------------------------------------------------------------------------
    def show_page(self, index: int) -> None:
        self.sidebar.setCurrentRow(index)

    def _on_page(self, index: int) -> None:
        self.stack.setCurrentIndex(index)

    def show_today(self) -> None:
        self.show_page(PAGES.index("Today"))

    def open_contact(self, contact_id: uuid.UUID) -> None:
        self.show_page(PAGES.index("Contacts"))
        self.contacts.select_contact(contact_id)

    def search_everything(self) -> SearchPalette:
        """Ctrl+K: one palette, kept between uses so the last search is still there."""
        if self.palette_dialog is None:
            self.palette_dialog = SearchPalette(self.ctx, self)
            self.palette_dialog.open_requested.connect(lambda hit: open_hit(self, hit))
        dialog = self.palette_dialog
        width = min(720, self.width() - 40)
        dialog.resize(width, min(520, self.height() - 80))
        dialog.move(self.mapToGlobal(self.rect().topLeft()) + QPoint((self.width() - width) // 2, 60))
        dialog.open()
        dialog.start()
        return dialog

    def focus_find(self) -> None:
        self.show_page(PAGES.index("Contacts"))
        self.contacts.focus_filter()

    def _on_overdue_counted(self, n: int) -> None:
        item = self.sidebar.item(PAGES.index("Commitments"))
        item.setText(f"Commitments ({n} overdue)" if n else "Commitments")
        # None when nothing is overdue: the palette's own text colour, light or dark.
        item.setData(Qt.ItemDataRole.ForegroundRole, QColor(colour("error")) if n else None)

    # -- actions -------------------------------------------------------------------------------
    def _current_contact(self) -> tuple[uuid.UUID, str] | None:
        if self.stack.currentWidget() is self.contacts:
            return self.contacts.detail.current()
        return None

    def new_contact(self) -> None:
        dialog = ContactDialog(self.ctx, parent=self)
        dialog.saved.connect(self.open_contact)
        dialog.existing_open_requested.connect(self.open_contact)
        dialog.open()

    def find_duplicates(self) -> DuplicatesDialog:
        dialog = DuplicatesDialog(self.ctx, self)
        dialog.merged.connect(self._on_merged)
        dialog.contact_open_requested.connect(self.open_contact)
        dialog.open()
        return dialog

    def _on_merged(self, result: object) -> None:
        assert isinstance(result, Merged)
        survivor = result.survivor_id
        self.offer_undo(merge_offer(result, lambda: self.open_contact(result.merged_id)))
        self.open_contact(survivor)

    def new_note(self) -> None:
        NoteDialog(self.ctx, contact=self._current_contact(), parent=self).open()

    def new_commitment(self) -> None:
        CommitmentDialog(self.ctx, contact=self._current_contact(), parent=self).open()

    def delete_current(self) -> None:
        current = self.stack.currentWidget()
        if current is self.contacts and self.contacts.detail.delete_focused_row():
            pass  # the note or commitment the rep is on, not the whole contact
        elif current is self.contacts and self.contacts.detail.current() is not None:
            self.contacts.detail.delete()
        elif current is self.accounts and self.accounts.page is not None:
            self.accounts.delete()
        elif current is self.commitments and (promise := self.commitments.selected()) is not None:
            self.delete("commitment", promise.id, promise.what)

    def delete(self, entity: str, row_id: uuid.UUID, name: str) -> None:
        """Delete at once (it is soft) and offer undo, rather than asking "are you sure?"."""

        def done(_result: object) -> None:
            after = (lambda: self.open_contact(row_id)) if entity == "contact" else None
            self.offer_undo(delete_offer(entity, row_id, name, after))

        remove = {
            "contact": contacts.delete_contact,
            "note": notes.delete_note,
            "commitment": commitments.delete_commitment,
        }[entity]
        self.ctx.act(lambda s: remove(s, row_id), done)

    def delete_account(self, account_id: uuid.UUID, name: str, with_people: bool) -> None:
        self.ctx.act(
            lambda s: accounts.delete_account(s, account_id, with_people=with_people),
            lambda deletion: self.offer_undo(account_delete_offer(account_id, name, deletion, with_people)),
        )

    def offer_status_undo(self, row: CommitmentRow, status: str) -> None:
        self.offer_undo(status_offer(row, status))

    def offer_undo(self, offer: UndoOffer) -> None:
        self._undo = offer
        self.undo_action.setEnabled(True)
        self.undo_action.setText(f"&Undo {offer.label}")
        self.undo_button.show()
        self.statusBar().showMessage(offer.message, 15_000)
        self.undo_offered.emit(offer.message)

    def _withdraw_undo(self) -> None:
        self._undo = None
        self.undo_action.setEnabled(False)
        self.undo_action.setText("&Undo")
        self.undo_button.hide()

    def _on_restored_from_trash(self, entity: str, row_id: uuid.UUID) -> None:
        # Restored by hand: the offer to undo its delete has nothing left to do.
        if self._undo is not None and self._undo.about == (entity, row_id):
            self._withdraw_undo()

    def undo_delete(self) -> None:
        offer = self._undo
        if offer is None:
            return
        self._withdraw_undo()

        def done(_result: object) -> None:
            self.statusBar().showMessage(offer.done_message, 5_000)
            if offer.after is not None:
                offer.after()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, NotFoundError):  # changed since (another laptop, a sync)
                self.statusBar().showMessage("Nothing to undo: it was changed since.", 8_000)
            else:
                self.ctx.presenter.present(exc, self)

        self.ctx.act(offer.run, done, failed)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and self._undo is not None
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Undo)
        ):
            return True  # not taken by the line edit: the window's Undo shortcut fires
        return super().eventFilter(watched, event)

    # -- import (ui/import_flow.py) -------------------------------------------------------------
    def import_contacts(self, path: Path | None = None) -> ImportFlow:
        """File › Import contacts…: the file dialog (unless ``path``), preview, import, undo offer."""
        self.import_flow = ImportFlow(self.ctx, self, self.offer_undo)
        self.import_flow.imported.connect(
            lambda result: (
                self.statusBar().showMessage(
                    "Every card is already in your contacts: nothing to import.", 8_000
                )
                if result.import_id is None
                else None
            )
        )
        if path is None:
            self.import_flow.choose()
        else:
            self.import_flow.start(path)
        return self.import_flow

    def show_imports(self) -> None:
        show_history(self.ctx, self, self.undo_import)

    def undo_import(self, import_id: uuid.UUID, source: str) -> None:
        if self._undo is not None and self._undo.about == ("import", import_id):
            self._withdraw_undo()

        def done(result: importing.UndoResult) -> None:
            message = f"Took back the import of {source}: {result.deleted:,} contacts moved to the Trash"
            if result.kept:
                message += f"; {result.kept:,} fields you changed since were kept"
            self.statusBar().showMessage(message + ".", 10_000)

        self.ctx.act(lambda s: importing.undo_import(s, import_id), done)

    # -- sample data (a database of its own: models/sample.py) ----------------------------------
    def _label_as_sample(self) -> None:
        """Say so wherever the rep looks, and take sync away: sample data is never synced."""
        self.sample_badge = QLabel(" Sample data — not your records, never synced ")
        self.sample_badge.setObjectName("sample_badge")
        self.sample_badge.setStyleSheet("background: #f9d65c; color: #3d2e00; font-weight: bold;")
        self.leave_sample_button = QPushButton("Back to my records")
        self.leave_sample_button.setObjectName("leave_sample_button")
        self.leave_sample_button.clicked.connect(self.leave_sample)
        self.statusBar().insertPermanentWidget(0, self.sample_badge)
        self.statusBar().insertPermanentWidget(1, self.leave_sample_button)
        for widget in (self.sync_button, self.sync_label):
            widget.hide()
        self.contacts.demo_button.hide()
        self.contacts.import_button.hide()  # the rep's contacts go to their own records

    def try_sample(self) -> None:
        """Open the separate sample database (filled on first use); the rep's own stays as is."""
        self.switch_requested.emit(sample_db_path())

    def leave_sample(self) -> None:
        self.switch_requested.emit(None)

    def fill_sample_data(self) -> None:
        self.statusBar().showMessage("Adding sample data…")
        db = self.ctx.db
        self.ctx.run_write(
            lambda: fill_demo(db, contacts=DEMO_CONTACTS),
            {cls.__entity__ for cls in SYNCED_CLASSES},
            lambda counts: self.statusBar().showMessage(
                "Sample data: " + ", ".join(f"{n:,} {what}" for what, n in counts.items()), 8_000
            ),
        )

    def print_briefing(self, contact_id: uuid.UUID) -> BriefingPreview:
        self.preview = show_briefing_preview(
            self, self.ctx, contact_id=contact_id, paper=self.preferences.paper()
        )
        return self.preview

    def print_current(self) -> None:
        """Ctrl+P: the selected visit on the Visits page, else the contact on screen."""
        if self.stack.currentWidget() is self.visits:
            self.visits.print_selected()
        elif (current := self._current_contact()) is not None:
            self.print_briefing(current[0])
        else:
            self.statusBar().showMessage("Open a contact or select a visit to print its briefing.", 5_000)

    def save_current_pdf(self) -> None:
        if self.stack.currentWidget() is self.visits:
            self.visits.save_day_pdf()
        elif (current := self._current_contact()) is not None:
            save_briefing_pdf(self, self.ctx, contact_id=current[0], paper=self.preferences.paper())
        else:
            self.statusBar().showMessage("Open a contact or a day of visits to save its briefing.", 5_000)

    # -- sync ----------------------------------------------------------------------------------
    def sign_in(self, server: str = "") -> SignInDialog:
        dialog = SignInDialog(self.ctx, self.sync, self)
        if server or not dialog.server.text():
            dialog.server.setText(server or self.preferences.current.server)
        dialog.saved.connect(self._on_signed_in)
        dialog.saved.connect(lambda _saved: self.preferences.remember_server(dialog.server.text()))
        dialog.open()
        return dialog

    # -- appearance and help -------------------------------------------------------------------
    def _on_appearance_changed(self) -> None:
        # Texts coloured by hand (overdue in red, in the scheme's own red) are drawn again.
        self.ctx.bus.notify({cls.__entity__ for cls in SYNCED_CLASSES})

    def show_insights(self) -> InsightsDialog:
        """The rep's own NPS, promises kept on time and their trends (ui/insights_view.py)."""
        dialog = InsightsDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self)
        dialog.open()
        return dialog

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self.ctx.presenter.log_file, self)
        dialog.open()
        return dialog

    def _on_signed_in(self, saved_in_keychain: bool) -> None:
        if saved_in_keychain:
            self.statusBar().showMessage("Signed in; syncing…", 5_000)
        else:
            QMessageBox.information(
                self,
                "Signed in for this session only",
                "This computer has no keychain Rapport can use, so your sign-in is kept only until "
                "Rapport closes. You will be asked again next time.",
            )
        self.sync.refresh_status(lambda: self.sync.sync_now(quiet=True))

    def _on_sync_status(self) -> None:
        status = self.sync.status
        item = self.sidebar.item(PAGES.index("Conflicts"))
        review = (status.conflicts + status.rejections) if status else 0
        item.setText(f"Conflicts ({review})" if review else "Conflicts")

    def _on_sync_button(self) -> None:
        if self.sync.running:
            self.sync.cancel()
            self.sync_button.setEnabled(False)  # until the sync has stopped
            self.statusBar().showMessage("Stopping the sync… what was received so far is kept.", 5_000)
        else:
            self.sync.sync_now()  # unlinked: offers to sign in

    def _on_sync_started(self) -> None:
        self.sync_button.setText("Cancel sync")
        self.sync_button.setToolTip("Stop this sync; what is waiting to be sent is kept")

    def _sync_ended(self) -> None:
        self.sync_button.setText("Sync")
        self.sync_button.setToolTip("Sync with the team's server now (F5)")
        self.sync_button.setEnabled(True)

    def _on_synced(self, summary: object) -> None:
        self._sync_ended()
        self.statusBar().showMessage(f"Synced: {summary}", 8_000)

    def _on_sync_failed(self, message: str) -> None:
        self._sync_ended()
        self.statusBar().showMessage(message or "Sync cancelled. Your changes are kept.", 15_000)

    # -- state ---------------------------------------------------------------------------------
    def restore_state(self) -> None:
        settings = app_settings()
        geometry = settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.fit_to_screen()
        splitter = settings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        for view in (self.contacts, self.accounts, self.commitments):
            view.restore_state(settings)
        # Today is the start screen (issue 12): the rep's day starts with what is due, whatever
        # page was open when the window last closed.
        self.show_page(PAGES.index("Today"))

    def fit_to_screen(self) -> None:
        """First start: as big as FIRST_SIZE, but never past the screen's free area (a 720-pixel
        laptop screen must still show the status bar with Sync and Undo)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        free = screen.availableGeometry()
        size = FIRST_SIZE.boundedTo(free.size() - FRAME_ALLOWANCE)
        self.resize(size)
        self.move(
            free.x() + (free.width() - size.width() - FRAME_ALLOWANCE.width()) // 2,
            free.y() + (free.height() - size.height() - FRAME_ALLOWANCE.height()) // 2,
        )
        self._fit_after_show = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_after_show:
            self._fit_after_show = False
            # The window manager adds its frame after the window is mapped.
            QTimer.singleShot(150, self._keep_frame_on_screen)

    def _keep_frame_on_screen(self) -> None:
        free = (self.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        frame = self.frameGeometry()
        if free.contains(frame):
            return
        extra = frame.size() - self.size()
        size = self.size().boundedTo(free.size() - extra)
        self.resize(size)
        self.move(max(free.x(), min(frame.x(), free.right() + 1 - size.width() - extra.width())), free.y())

    def save_state(self) -> None:
        settings = app_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/splitter", self.splitter.saveState())
        for view in (self.contacts, self.accounts, self.commitments):
            view.save_state(settings)
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        # A running sync stops at once, even mid-request (sync/transport.py); what it committed
        # stays, and the outbox is on disk, so nothing queued is lost.
        self.sync.stop()
        self.reminders.stop()
        self.backups.stop()
        # Let a write in flight finish: it is one transaction, and the rep expects it kept.
        self.ctx.tasks.wait_idle(10_000)
        event.accept()
