"""The trash: what was deleted, and a Restore button (deletes are soft until synced)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from models.rows import TrashRow
from models.services import trash
from ui.context import AppContext, RefreshWhenShown
from ui.table import Column, RowsModel, day_text, make_table, on_selection, selected_row


class TrashView(QWidget):
    restored = Signal(str, object)  # entity, id

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = RowsModel[TrashRow](
            [
                Column("Deleted", lambda r: day_text(r.deleted_at)),
                Column("What", lambda r: r.entity.capitalize()),
                Column("Title", lambda r: r.title),
            ],
            self,
        )
        self.table = make_table(self.model, name="trash_table")
        self.restore_button = QPushButton("Restore")
        self.restore_button.clicked.connect(self.restore_selected)
        on_selection(self.table, lambda: self.restore_button.setEnabled(self.selected() is not None))
        self.restore_button.setEnabled(False)
        self.info = QLabel(
            "Restored contacts bring back their notes and commitments; restored accounts bring back"
            " the people deleted with them."
        )
        self.info.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.restore_button)
        bar.addWidget(self.info, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.refresher = RefreshWhenShown(self, self.reload)
        ctx.bus.changed.connect(lambda _e: self.refresher.request())

    def reload(self) -> None:
        self.ctx.query(trash.list_trash, self.model.set_rows)

    def selected(self) -> TrashRow | None:
        return selected_row(self.table, self.model)

    def restore_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.ctx.act(
                lambda s: trash.restore(s, row.entity, row.id),
                lambda _r: self.restored.emit(row.entity, row.id),
            )
