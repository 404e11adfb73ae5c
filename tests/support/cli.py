"""``main.py`` as a real process against a temporary data folder, with no display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, data: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``main.py ARGS`` with ``data`` as the data folder, no display, and ``env`` added."""
    env = {**os.environ, "RAPPORT_DATA_DIR": str(data), **(env or {})}
    env.pop("QT_QPA_PLATFORM", None)  # the command must find its own way without a display
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, env=env, text=True, capture_output=True, timeout=120
    )
