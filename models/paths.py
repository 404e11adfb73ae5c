"""Where Rapport keeps its files: the user's data and log folders (platformdirs), and where its
own read-only files (templates, icons, migrations) are, from source or inside a bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from platformdirs import user_data_path, user_log_path

APP_NAME = "Rapport"
# Puts the user's data, logs and settings in another folder (tests, the self-test, portable use).
DATA_OVERRIDE = "RAPPORT_DATA_DIR"
# Points the app at another resources folder (tests use it to prove a missing file is caught).
RESOURCES_OVERRIDE = "RAPPORT_RESOURCES_DIR"


def install_root() -> Path:
    """The folder the app's own files sit under.

    A PyInstaller bundle unpacks them under ``sys._MEIPASS`` (``_internal`` beside the
    executable); from a source checkout (or an editable install) it is the repository root.
    Every read-only file the app needs is found from here, so frozen and source runs agree.
    """
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else Path(__file__).resolve().parents[1]


def resource_dir() -> Path:
    """``resources/``: briefing templates, icons, the .desktop file."""
    override = os.environ.get(RESOURCES_OVERRIDE)
    return Path(override) if override else install_root() / "resources"


def resource_path(*parts: str) -> Path:
    return resource_dir().joinpath(*parts)


def migrations_dir() -> Path:
    """The Alembic scripts: read from disk at run time, so a bundle ships them as files."""
    return install_root() / "models" / "migrations"


def data_dir() -> Path:
    override = os.environ.get(DATA_OVERRIDE)
    return Path(override) if override else user_data_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    override = os.environ.get(DATA_OVERRIDE)
    return Path(override) / "logs" if override else user_log_path(APP_NAME, appauthor=False)


def default_db_path() -> Path:
    return data_dir() / "rapport.sqlite"


def sample_db_path() -> Path:
    """The separate database "Try with sample data" opens (see models/sample.py)."""
    return data_dir() / "sample.sqlite"
