"""The desktop bundle, built by PyInstaller in the background while the rest of the suite runs.

A build takes minutes of one core; the suite leaves the second core of a CI machine mostly idle,
so ``tests/conftest.py`` starts the build when the session starts (only where RAPPORT_BUNDLE_TEST=1)
at a lower priority, and ``tests/test_bundle.py`` waits for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("RAPPORT_BUNDLE_TEST") == "1"


@dataclass
class Build:
    work: Path
    proc: subprocess.Popen[bytes]
    started: float

    @property
    def log(self) -> Path:
        return self.work / "pyinstaller.log"

    def wait(self, timeout: float) -> Path:
        """The built bundle's folder, once PyInstaller has finished (AssertionError if it failed)."""
        code = self.proc.wait(timeout=timeout)
        log = self.log.read_text(errors="replace")
        assert code == 0, f"PyInstaller failed ({code}):\n{log[-4000:]}"
        return self.work / "dist" / "Rapport"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)


_build: Build | None = None


def _lower_priority() -> None:
    os.nice(10)  # the tests that time a quit or a timeout keep the first claim on a core


def start() -> Build | None:
    """Start the build (once); None where PyInstaller is not installed."""
    global _build
    if _build is not None:
        return _build
    pyinstaller = shutil.which("pyinstaller", path=str(Path(sys.executable).parent))
    if pyinstaller is None:
        return None
    work = Path(tempfile.mkdtemp(prefix="rapport-bundle-"))
    command = [
        pyinstaller,
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(work / "dist"),
        "--workpath",
        str(work / "build"),
        str(ROOT / "build.spec"),
    ]
    with (work / "pyinstaller.log").open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_lower_priority if os.name == "posix" else None,
        )
    _build = Build(work, proc, time.perf_counter())
    return _build


def stop() -> None:
    global _build
    if _build is not None:
        _build.stop()
        _build = None
