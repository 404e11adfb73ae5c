"""Where Rapport keeps its files: the user's data and log folders (platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path, user_log_path

APP_NAME = "Rapport"


def data_dir() -> Path:
    override = os.environ.get("RAPPORT_DATA_DIR")
    return Path(override) if override else user_data_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    override = os.environ.get("RAPPORT_DATA_DIR")
    return Path(override) / "logs" if override else user_log_path(APP_NAME, appauthor=False)


def default_db_path() -> Path:
    return data_dir() / "rapport.sqlite"


def sample_db_path() -> Path:
    """The separate database "Try with sample data" opens (see models/sample.py)."""
    return data_dir() / "sample.sqlite"
