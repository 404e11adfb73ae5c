"""The desktop bundle, built by PyInstaller in the background while the rest of the suite runs.

A build takes minutes of one core; the suite leaves the second core of a CI machine mostly idle,
so ``tests/conftest.py`` starts the build when the session starts (only where RAPPORT_BUNDLE_TEST=1)
at a lower priority, and ``tests/test_bundle.py`` waits for it. With pytest-xdist the controller
starts it and names its folder in RAPPORT_BUNDLE_WORK, which the workers inherit: the worker
that runs the bundle test waits for the exit code the build writes there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("RAPPORT_BUNDLE_TEST") == "1"
WORK_ENV = "RAPPORT_BUNDLE_WORK"


@dataclass
class Build:
    work: Path
    proc: subprocess.Popen[bytes] | None  # None: another process of this session started it
    started: float  # time.time(): comparable across the session's processes

    @property
    def log(self) -> Path:
        return self.work / "pyinstaller.log"

    def _exit_code(self, timeout: float) -> int:
        if self.proc is not None:
            return self.proc.wait(timeout=timeout)
        marker = self.work / "exit-code"
        deadline = time.monotonic() + timeout
        while not marker.is_file() or not marker.read_text().strip():
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("pyinstaller", timeout)
            time.sleep(1)
        return int(marker.read_text())

    def wait(self, timeout: float) -> Path:
        """The built bundle's folder, once PyInstaller has finished (AssertionError if it failed)."""
        code = self._exit_code(timeout)
        log = self.log.read_text(errors="replace")
        assert code == 0, f"PyInstaller failed ({code}):\n{log[-4000:]}"
        return self.work / "dist" / "Rapport"

    def stop(self) -> None:
        if self.proc is None:
            return  # the process that started it cleans up
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the shell and PyInstaller under it
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
    shared = os.environ.get(WORK_ENV)
    if shared and (Path(shared) / "started").is_file():
        work = Path(shared)
        _build = Build(work, None, float((work / "started").read_text()))
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
    started = time.time()
    (work / "started").write_text(repr(started))
    # The shell writes PyInstaller's exit code where another process of the session can read it.
    script = '"$@"; code=$?; echo $code > "$WORK/exit-code"; exit $code'
    with (work / "pyinstaller.log").open("wb") as log:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", script, "sh", *command],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "WORK": str(work)},
            preexec_fn=_lower_priority if os.name == "posix" else None,
            start_new_session=True,
        )
    os.environ[WORK_ENV] = str(work)  # pytest-xdist's workers start after this and inherit it
    _build = Build(work, proc, started)
    return _build


def stop() -> None:
    global _build
    if _build is not None:
        _build.stop()
        _build = None
