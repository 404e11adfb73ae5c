"""The Qt binding itself: guard against a release that corrupts None's reference count."""

from __future__ import annotations

import sys

from PySide6.QtCore import QSize


def test_void_qt_calls_keep_nones_reference_count() -> None:
    # PySide6 6.12.0 on Python 3.11 decremented None once per void call; Python then aborts
    # ("deallocating None") after a few thousand calls. From 3.12 None is immortal anyway.
    size = QSize(1, 1)
    before = sys.getrefcount(None)
    for _ in range(500):
        size.setWidth(2)
    assert sys.getrefcount(None) - before > -50
