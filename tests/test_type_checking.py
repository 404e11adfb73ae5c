"""mypy (run by `make test` and `make lint`) checks all the code the app ships, not a part of it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def test_mypy_checks_every_package_and_module_the_app_ships() -> None:
    config = _pyproject()
    shipped = {name.rstrip("*") for name in config["tool"]["setuptools"]["packages"]["find"]["include"]}
    shipped |= set(config["tool"]["setuptools"]["py-modules"])
    mypy = config["tool"]["mypy"]
    checked = set(mypy.get("packages", [])) | set(mypy.get("modules", []))
    assert shipped == {"models", "sync", "ui", "main"}  # the list this test was written against
    assert shipped <= checked


def test_no_module_of_ours_is_excused_from_mypy() -> None:
    mypy = _pyproject()["tool"]["mypy"]
    assert not mypy.get("ignore_errors")
    excused = [o["module"] for o in mypy.get("overrides", []) if o.get("ignore_errors")]
    assert excused == []
    assert mypy.get("disallow_untyped_defs") is True  # else an unhinted function goes unchecked
