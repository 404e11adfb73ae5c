"""Ctrl+K: one line to find a contact, an account, a note, a commitment or a visit.

The query runs on the task runner's read pool (never on the GUI thread; each keystroke is one
read transaction of a few milliseconds, bench/search_bench.py). While one runs, what the rep
types next waits: only the newest text is searched when it returns, and an answer for a text
no longer in the box is dropped, so results never flicker back to an older query.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFontMetrics,
    QKeyEvent,
    QPainter,
    QPalette,
    QTextDocument,
    QTextOption,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from models.services.search import (
    KIND_TITLES,
    MARK_END,
    MARK_START,
    SearchHit,
    SearchResults,
    search,
    unmarked,
)
from ui.appearance import colour
from ui.context import AppContext

if TYPE_CHECKING:
    from ui.main_window import MainWindow

HIT_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


def marked_html(text: str) -> str:
    """The service's marks around matching words as bold, everything else escaped."""
    return html.escape(text).replace(MARK_START, "<b>").replace(MARK_END, "</b>")


def hit_html(hit: SearchHit, selected: bool = False) -> str:
    """Two lines: the title, and its context in the muted colour (in the text's own colour
    when selected: muted grey on the selection's blue cannot be read)."""
    when = f"{hit.when:%d %b %Y} · " if hit.when is not None else ""
    trash = " <i>(in the trash)</i>" if hit.in_trash else ""
    detail = f"{html.escape(when)}{marked_html(hit.detail)}"
    if not selected:
        detail = f"<span style='color:{colour('muted')}'>{detail}</span>"
    return f"{marked_html(hit.title)}{trash}<br>{detail}"


class _HitDelegate(QStyledItemDelegate):
    """Draws a hit's two lines as rich text (the matching words in bold)."""

    @staticmethod
    def _document(option: QStyleOptionViewItem, text: str) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        # One line each, cut at the edge: every hit is two lines high, whatever the width
        # (wrapped rows changed height with the list's width and overlapped their neighbours).
        no_wrap = doc.defaultTextOption()
        no_wrap.setWrapMode(QTextOption.WrapMode.NoWrap)
        doc.setDefaultTextOption(no_wrap)
        doc.setDocumentMargin(2)
        doc.setHtml(text)
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        if index.data(HIT_ROLE) is None:  # a group's title
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        doc = self._document(option, hit_html(index.data(HIT_ROLE), selected))
        option.text = ""
        widget = option.widget
        widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        context = QAbstractTextDocumentLayout.PaintContext()
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        context.palette.setColor(QPalette.ColorRole.Text, option.palette.color(role))
        rect = option.rect
        painter.save()
        painter.translate(rect.left() + 4, rect.top() + 3)
        painter.setClipRect(QRectF(0, 0, rect.width() - 8, rect.height() - 6))
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        if index.data(HIT_ROLE) is None:
            return super().sizeHint(option, index)
        lines = QFontMetrics(option.font).lineSpacing()
        return QSize(option.rect.width(), 2 * lines + 10)


class SearchPalette(QDialog):
    """Type to search everything; arrows move, Enter opens, Escape closes."""

    open_requested = Signal(object)  # the SearchHit to open where it lives
    results_shown = Signal(str)  # the text whose results are on screen (tests wait on it)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("search_palette")
        self.setWindowTitle("Search")
        self.setModal(True)
        self.box = QLineEdit()
        self.box.setObjectName("search_box")
        self.box.setPlaceholderText("Search contacts, accounts, notes, commitments, visits…")
        self.box.setClearButtonEnabled(True)
        self.box.installEventFilter(self)
        self.trash = QCheckBox("Include the &trash")
        self.trash.setObjectName("search_include_trash")
        self.list = QListWidget()
        self.list.setObjectName("search_results")
        self.list.setItemDelegate(_HitDelegate(self.list))
        self.list.setUniformItemSizes(False)
        # Rows are cut at the edge (one line each); nothing to scroll sideways to.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemActivated.connect(self._on_activated)
        self.status = QLabel("Type a name, a word from a note, an e-mail or a phone number.")
        self.status.setObjectName("search_status")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.box, 1)
        row.addWidget(self.trash)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        self.box.textChanged.connect(lambda _t: self._request())
        self.trash.toggled.connect(lambda _on: self._request())
        self._running = False
        self._queued = False
        self.results = SearchResults("")

    # -- searching -----------------------------------------------------------------------------
    def _request(self) -> None:
        if self._running:
            self._queued = True  # searched when the one in flight returns
            return
        text, trash = self.box.text(), self.trash.isChecked()
        if not text.strip():
            self._show(SearchResults(""))
            return
        self._running = True

        def done(results: SearchResults) -> None:
            self._running = False
            if self._queued or results.text != self.box.text():
                self._queued = False
                self._request()  # the rep typed on: this answer is stale
                return
            self._show(results)

        def failed(exc: BaseException) -> None:
            self._running = False
            self._queued = False
            self.ctx.presenter.present(exc, self)

        self.ctx.query(lambda s: search(s, text, include_trash=trash), done, failed)

    def _show(self, results: SearchResults) -> None:
        self.results = results
        self.list.clear()
        first: QListWidgetItem | None = None
        for kind, hits in results.groups.items():
            title = QListWidgetItem(KIND_TITLES[kind])
            title.setFlags(Qt.ItemFlag.NoItemFlags)
            font = title.font()
            font.setBold(True)
            title.setFont(font)
            self.list.addItem(title)
            for hit in hits:
                item = QListWidgetItem(hit_html(hit))
                item.setData(HIT_ROLE, hit)
                self.list.addItem(item)
                first = first or item
        if first is not None:
            self.list.setCurrentItem(first)
        n = len(results.hits())
        if not results.text.strip():
            self.status.setText("Type a name, a word from a note, an e-mail or a phone number.")
        elif n == 0:
            self.status.setText("Nothing matches.")
        else:
            self.status.setText("↑↓ to choose, Enter to open, Esc to close")
        self.results_shown.emit(results.text)

    # -- keyboard ------------------------------------------------------------------------------
    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        count = self.list.count()
        while 0 <= row + step < count:
            row += step
            if self.list.item(row).data(HIT_ROLE) is not None:
                self.list.setCurrentRow(row)
                return

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.box and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                self._move(5 if key == Qt.Key.Key_PageDown else -5)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._on_activated(item)
                return True
        return super().eventFilter(watched, event)

    def _on_activated(self, item: QListWidgetItem) -> None:
        hit = item.data(HIT_ROLE)
        if isinstance(hit, SearchHit):
            self.accept()
            self.open_requested.emit(hit)

    def start(self) -> None:
        """Shown again (Ctrl+K): the last text stays, selected, so typing replaces it."""
        self.box.setFocus()
        self.box.selectAll()


def open_hit(window: MainWindow, hit: SearchHit) -> None:
    """Open a result where it lives: a contact's page, an account's page, a note in its
    contact's timeline, a commitment in the Commitments list, a visit on its day. A row in the
    trash opens the Trash page (its own page would refuse it)."""
    if hit.in_trash:
        window.show_page(window.stack.indexOf(window.trash))
    elif hit.kind == "contact":
        window.open_contact(hit.id)
    elif hit.kind == "account" or (hit.kind == "note" and hit.contact_id is None and hit.account_id):
        account_id = hit.id if hit.kind == "account" else hit.account_id
        assert account_id is not None
        window.show_page(window.stack.indexOf(window.accounts))
        window.accounts.select_account(account_id, unmarked(hit.title) if hit.kind == "account" else "")
    elif hit.kind == "note" and hit.contact_id is not None:
        window.open_contact(hit.contact_id)
        window.contacts.detail.show_note(hit.contact_id, hit.id)
    elif hit.kind == "commitment":
        window.show_page(window.stack.indexOf(window.commitments))
        window.commitments.select_commitment(hit.id, unmarked(hit.title))
    elif hit.kind == "visit" and isinstance(hit.when, datetime):
        window.show_page(window.stack.indexOf(window.visits))
        window.visits.select_visit(hit.id, hit.when.astimezone().date())
