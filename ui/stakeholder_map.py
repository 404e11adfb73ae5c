"""The account page's stakeholder map: its people grouped by their part, with health and last
contact; the neglected ones in the error colour with a warning sign, so they show at a glance."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from models.services.stakeholders import Stakeholder, StakeholderGroup
from ui.appearance import colour, on_appearance_changed

NEGLECTED = "⚠ "
COLUMNS = ("Name", "Job title", "Health", "Last contact", "Why")


def last_contact_text(days: int | None) -> str:
    if days is None:
        return "never"
    if days == 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def health_text(p: Stakeholder) -> str:
    return "—" if p.health.score is None else f"{p.health.score} {p.health.band}"


def map_summary(groups: Sequence[StakeholderGroup]) -> str:
    """The map in one line: who is there and who has been neglected."""
    people = [p for g in groups for p in g.people]
    if not people:
        return "No people at this account yet."
    parts = ", ".join(f"{g.title.lower()} {len(g.people)}" for g in groups)
    neglected = [p.name for p in people if p.health.neglected]
    said = f"{len(people)} {'person' if len(people) == 1 else 'people'} ({parts})."
    if neglected:
        names = ", ".join(neglected[:4]) + (f" and {len(neglected) - 4} more" if len(neglected) > 4 else "")
        said += f" Neglected: {names}."
    else:
        said += " No one neglected."
    return said


class StakeholderMap(QTreeWidget):
    contact_open_requested = Signal(object)  # contact id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stakeholder_map")
        self.setAccessibleName("Stakeholder map")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformRowHeights(True)
        header = self.header()
        header.setStretchLastSection(True)
        for column, width in enumerate((160, 120, 70, 95)):
            self.setColumnWidth(column, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.groups: tuple[StakeholderGroup, ...] = ()
        self.itemActivated.connect(self._on_activated)
        on_appearance_changed(self._recolour)

    def show_groups(self, groups: Sequence[StakeholderGroup]) -> None:
        self.groups = tuple(groups)
        self.clear()
        warn = QBrush(QColor(colour("error")))
        for group in groups:
            title = f"{group.title} ({len(group.people)}"
            title += f", {group.neglected} neglected)" if group.neglected else ")"
            top = QTreeWidgetItem([title])
            top.setFirstColumnSpanned(True)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.addTopLevelItem(top)
            for p in group.people:
                name = (NEGLECTED if p.health.neglected else "") + p.name
                item = QTreeWidgetItem(
                    [name, p.role, health_text(p), last_contact_text(p.days_since_contact), _why(p)]
                )
                item.setData(0, Qt.ItemDataRole.UserRole, p.id)
                item.setToolTip(2, p.health.text)
                item.setToolTip(4, p.health.text)
                if p.health.neglected:
                    item.setToolTip(0, f"{p.name} is neglected: {p.health.text}")
                    for column in (0, 3):
                        item.setForeground(column, warn)
                top.addChild(item)
            top.setExpanded(True)
            top.setFirstColumnSpanned(True)

    def _recolour(self) -> None:
        self.show_groups(self.groups)

    def selected_contact(self) -> uuid.UUID | None:
        item = self.currentItem()
        value = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return value if isinstance(value, uuid.UUID) else None

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        value = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(value, uuid.UUID):
            self.contact_open_requested.emit(value)


def _why(p: Stakeholder) -> str:
    """The reasons that cost points, or the first one said for the record."""
    costly = [r.text for r in p.health.reasons if r.points]
    return "; ".join(costly) if costly else (p.health.reasons[0].text if p.health.reasons else "")
