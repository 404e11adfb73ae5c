"""The layers, checked by a tool rather than by memory: models/ and sync/ never import Qt, the
GUI never imports the command line, and the laptop's code never imports the server.

import-linter (``make test``) checks the same rules with indirect imports too; these direct
checks keep them in the test suite.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "ui")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def offenders(packages: tuple[str, ...], forbidden: tuple[str, ...], *, skip: str = "") -> list[str]:
    """Every import of a ``forbidden`` module or its submodules by the packages' modules (those
    below the folder ``skip`` left out)."""
    found = []
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            where = path.relative_to(ROOT)
            if skip and where.is_relative_to(skip):
                continue
            for name in imported_modules(path):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    found.append(f"{where} imports {name}")
    return found


def test_core_packages_never_import_qt_or_ui() -> None:
    assert offenders(("models", "sync"), FORBIDDEN) == []


def test_the_gui_never_imports_the_command_line() -> None:
    # The keychain the GUI needs is sync.keychain, shared with the command line.
    assert offenders(("ui",), ("sync.cli",)) == []


def test_laptop_code_never_imports_the_server() -> None:
    assert offenders(("models", "ui", "sync"), ("sync.server",), skip="sync/server") == []


def test_the_checker_sees_a_qt_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from PySide6.QtWidgets import QWidget\nimport ui.app\n")
    assert {"PySide6.QtWidgets", "ui.app"} <= imported_modules(sample)


def test_the_checker_sees_a_submodule_and_skips_the_server_itself() -> None:
    assert offenders(("sync",), ("sync.server",)) != []  # the server imports itself
    assert offenders(("sync",), ("sync.protocol",)) != []
    assert offenders(("sync",), ("sync.protocol",), skip="sync") == []


SERVER_ONLY = ("sync.server", "fastapi", "starlette", "uvicorn", "httptools", "uvloop", "argon2", "psycopg")


def _is_server_only(name: str) -> bool:
    return any(name == s or name.startswith(s + ".") for s in SERVER_ONLY)


def test_main_never_imports_the_server() -> None:
    """import-linter reads packages only; main.py (the bundle's entry point) is checked here.
    What main.py imports from models/ui/sync is covered by the contract in pyproject.toml."""
    offenders = sorted(name for name in imported_modules(ROOT / "main.py") if _is_server_only(name))
    assert offenders == []


def test_the_server_check_sees_a_server_import() -> None:
    assert _is_server_only("sync.server.app") and _is_server_only("fastapi")
    assert not _is_server_only("sync.serverless") and not _is_server_only("sync.client")


def test_the_server_without_its_packages_says_what_to_install() -> None:
    """A desktop install (no `server` extra) asked to run the server: a plain instruction.
    ``-S`` leaves out site-packages, as an install without the server's packages would."""
    command = [sys.executable, "-S", "-m", "sync.server", "--help"]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "pip install '.[server]'" in out.stderr
    assert "fastapi" in out.stderr
