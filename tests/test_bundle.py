"""The built desktop bundle starts and has every part it needs (build.spec + PyInstaller).

A missing hidden import, data file or Qt plugin passes every test run from source and fails on
a rep's laptop; so CI builds the bundle and runs the built executable's ``--self-test`` and
``--version`` with no display. Building takes minutes, so it runs where RAPPORT_BUNDLE_TEST=1
(``.ci/run`` sets it; ``make bundle-test`` here) and is skipped, saying so, elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.version import VERSION
from tests.support import bundle_build

REQUIRED = bundle_build.REQUIRED
SERVER_ONLY = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "argon2", "psycopg")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not REQUIRED,
        reason="the bundle test builds with PyInstaller (minutes): CI runs it (RAPPORT_BUNDLE_TEST=1); "
        "`make bundle-test` runs it here",
    ),
]


def _executable(folder: Path) -> Path:
    return folder / ("rapport.exe" if sys.platform == "win32" else "rapport")


@pytest.fixture(scope="module")
def bundle() -> Iterator[Path]:
    build = bundle_build.start()  # started with the session (tests/conftest.py); here if run alone
    assert build is not None, "PyInstaller is not installed: pip install -e '.[build]' (make does it)"
    folder = build.wait(timeout=1500)
    # The cost CI pays for this test, in its log (the build overlaps the rest of the suite).
    print(f"bundle built in {time.time() - build.started:.0f} s after the session started")
    yield folder


def _run(bundle: Path, *args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["RAPPORT_DATA_DIR"] = str(data)
    env.pop("PYTHON_KEYRING_BACKEND", None)  # the bundle has only what a rep's laptop has
    return subprocess.run(
        [str(_executable(bundle)), *args],
        cwd=data.parent,
        env=env,
        text=True,
        capture_output=True,
        timeout=180,
    )


@pytest.mark.timeout(1800)
def test_built_app_names_its_version(bundle: Path, tmp_path: Path) -> None:
    out = _run(bundle, "--version", data=tmp_path / "data")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"Rapport {VERSION}"


@pytest.mark.timeout(1800)
def test_built_app_passes_its_self_test_offscreen(bundle: Path, tmp_path: Path) -> None:
    started = time.perf_counter()
    out = _run(bundle, "--self-test", data=tmp_path / "data")
    seconds = time.perf_counter() - started
    assert out.returncode == 0, f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    assert "rapport self-test passed" in out.stdout
    print(out.stdout + f"(the frozen self-test took {seconds:.1f} s from the process start)")


@pytest.mark.timeout(1800)
def test_bundle_has_the_desktop_only(bundle: Path) -> None:
    from PyInstaller.archive.readers import ZlibArchiveReader

    # Python modules are in the archive PyInstaller built beside the bundle; packages with
    # compiled parts also get a folder in _internal.
    modules = set(ZlibArchiveReader(str(bundle.parent.parent / "build" / "build" / "PYZ-00.pyz")).toc)
    internal = bundle / "_internal"
    names = modules | {p.name.split(".")[0] for p in internal.iterdir()}
    server = sorted(n for n in names if n.split(".")[0] in SERVER_ONLY or n.startswith("sync.server"))
    assert server == [], f"server code in the desktop bundle: {server[:10]}"
    assert {"sync.client", "models.db", "ui.app"} <= modules  # the check reads the right archive
    assert (internal / "models" / "migrations" / "env.py").is_file()
    assert (internal / "resources" / "templates" / "briefing.html").is_file()


@pytest.mark.timeout(1800)
def test_built_self_test_fails_when_a_data_file_is_missing(bundle: Path, tmp_path: Path) -> None:
    """What a spec that forgot a data file ships: the self-test must say so, not pass."""
    template = bundle / "_internal" / "resources" / "templates" / "briefing.html"
    aside = tmp_path / "briefing.html"
    shutil.move(template, aside)
    try:
        out = _run(bundle, "--self-test", data=tmp_path / "data")
    finally:
        shutil.move(aside, template)
    assert out.returncode == 1
    assert "FAILED at briefing: the briefing sheet's template is missing" in out.stderr
