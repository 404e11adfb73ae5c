"""The application's name and icon reach Qt (window title, task bar, launcher)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from ui.branding import APP_NAME, ICON_SIZES, app_icon, apply_branding


def test_icon_offers_every_size_from_the_files(qapp: QApplication) -> None:
    icon = app_icon()
    assert not icon.isNull()
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert {(n, n) for n in ICON_SIZES} <= sizes


def test_branding_names_the_app_and_gives_it_the_icon(qapp: QApplication) -> None:
    apply_branding(qapp)
    assert qapp.applicationDisplayName() == APP_NAME
    assert qapp.desktopFileName() == "rapport"
    assert not QApplication.windowIcon().isNull()
