"""The README's screenshot script still draws the real window (``make screenshot``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from ui.appearance import scheme_colours

ROOT = Path(__file__).resolve().parents[2]


def test_the_screenshot_script_draws_the_main_window(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "RAPPORT_DATA_DIR")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "screenshot.py"), "--out", str(out), "--size", "1000x640"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 640)
    # The window, not a blank: the sidebar's selected page (Contacts) in the light highlight.
    highlight = scheme_colours(dark=False)["highlight"]
    assert any(image.pixelColor(20, y).name() == highlight for y in range(image.height()))
