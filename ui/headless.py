"""Qt without a screen: the command line's PDFs and the self-test run on servers, in CI and
over ssh, where Qt would otherwise abort for want of a display."""

from __future__ import annotations

import os
import sys


def offscreen_without_display() -> None:
    """Choose Qt's offscreen platform when this is Linux with no display and no platform was
    chosen; call before the application object is made. Elsewhere there is always a screen."""
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and no_display and "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
