"""Tests that need a system font: skipped with a plain reason on a laptop without it, required
in CI (``.ci/run`` sets ``RAPPORT_REQUIRE_FONTS=1`` and installs the fonts), as the PostgreSQL
suite is with ``RAPPORT_REQUIRE_PG``."""

from __future__ import annotations

import os
import sys

import pytest
from PySide6.QtGui import QFontDatabase

REQUIRE_FONTS = os.environ.get("RAPPORT_REQUIRE_FONTS") == "1"

WritingSystem = QFontDatabase.WritingSystem

# What to install on Debian/Ubuntu for each script the tests print.
PACKAGES = {
    WritingSystem.Japanese: "fonts-noto-cjk",
    WritingSystem.Arabic: "fonts-noto-core",
}


def need_font(system: QFontDatabase.WritingSystem, script: str) -> None:
    """Skip the calling test when no installed font writes ``script`` (fail in CI instead).

    Needs a QGuiApplication (the ``qapp`` fixture): Qt reads the fonts fontconfig knows of.
    """
    if QFontDatabase.families(system):
        return
    package = PACKAGES.get(system, "a font for it")
    # pytest reports where the skip was raised (here), so the reason names the test itself.
    test = sys._getframe(1).f_code.co_name
    reason = f"{test} needs a {script} font and none is installed (install {package}; CI requires it)"
    if REQUIRE_FONTS:
        pytest.fail(f"RAPPORT_REQUIRE_FONTS=1 but {reason}")
    pytest.skip(reason)
