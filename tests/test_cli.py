"""The command line, run as a real process against a temporary data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from models.db import open_database
from models.services.contacts import count_contacts

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAPPORT_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, env=env, text=True, capture_output=True, timeout=120
    )


def test_version(tmp_path: Path) -> None:
    out = run("--version", data=tmp_path)
    assert out.returncode == 0
    assert out.stdout.startswith("Rapport ")


def test_demo_fills_a_database(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    out = run("demo", "--db", str(path), "--contacts", "40", data=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "40 contacts" in out.stdout
    db = open_database(path)
    with db.read() as s:
        assert count_contacts(s) == 40
    db.close()


def test_demo_on_a_corrupt_file_fails_clearly_and_leaves_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    before = path.read_bytes()
    out = run("demo", "--db", str(path), data=tmp_path)
    assert out.returncode == 2
    assert "damaged or is not a database" in out.stderr
    assert "Traceback" not in out.stderr
    assert path.read_bytes() == before
