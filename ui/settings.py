"""The rep's preferences and the window's remembered state: one QSettings file, ``settings.ini``
in the data folder (beside the database, so tests and portable installs stay apart).

Preferences are read into a frozen :class:`Preferences` and written back whole by the
Preferences dialog; :func:`check_preferences` turns what the form holds into one, or into a
message per field, so a bad value is explained and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from PySide6.QtCore import QSettings

from models.backup import KEEP_DAYS
from models.paths import data_dir
from models.services.contacts import KINDS

APPEARANCES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
# "" means: from the locale (Letter in the US and Canada, A4 elsewhere: ui/printing/render.py).
PAPERS = ("", "A4", "Letter")
SYNC_MINUTES = (1, 24 * 60)  # every minute at most, once a day at least
CADENCE_DAYS = (1, 3650)  # the same bounds the contact form holds a cadence to
BACKUP_DAYS = KEEP_DAYS  # how long backups are kept


def app_settings() -> QSettings:
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def _no_cadence() -> Mapping[str, int | None]:
    return MappingProxyType(dict.fromkeys(KINDS))


@dataclass(frozen=True)
class Preferences:
    server: str = ""  # what the sign-in form proposes
    paper: str = ""
    sync_minutes: int = 5
    # Tray notifications (ui/reminders.py).
    reminders: bool = True
    appearance: str = "system"
    # A new contact's check-in cadence by kind (customer, partner…), None for none.
    cadence: Mapping[str, int | None] = field(default_factory=_no_cadence)
    # Where the daily backups go: "" is the data folder (beside the database).
    backup_folder: str = ""
    backup_days: int = 14

    def backups(self) -> Path:
        return Path(self.backup_folder).expanduser() if self.backup_folder else data_dir()


def _int(value: object, default: int | None) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def load_preferences(settings: QSettings | None = None) -> Preferences:
    """What is saved, with the default for anything missing or unreadable (a hand-edited file)."""
    s = settings or app_settings()
    base = Preferences()
    paper = str(s.value("preferences/paper", base.paper))
    appearance = str(s.value("preferences/appearance", base.appearance))
    minutes = _int(s.value("preferences/sync_minutes", base.sync_minutes), base.sync_minutes)
    low, high = SYNC_MINUTES
    cadence = {kind: _int(s.value(f"cadence/{kind}", ""), None) for kind in KINDS}
    return Preferences(
        server=str(s.value("preferences/server", base.server)),
        paper=paper if paper in PAPERS else base.paper,
        sync_minutes=min(max(minutes or base.sync_minutes, low), high),
        reminders=str(s.value("preferences/reminders", "true")).lower() in ("true", "1", "yes"),
        appearance=appearance if appearance in APPEARANCES else base.appearance,
        cadence=MappingProxyType(cadence),
        backup_folder=str(s.value("backup/folder", base.backup_folder)),
        backup_days=min(
            max(_int(s.value("backup/days", ""), None) or base.backup_days, BACKUP_DAYS[0]), BACKUP_DAYS[1]
        ),
    )


def save_preferences(prefs: Preferences, settings: QSettings | None = None) -> None:
    s = settings or app_settings()
    s.setValue("preferences/server", prefs.server)
    s.setValue("preferences/paper", prefs.paper)
    s.setValue("preferences/sync_minutes", prefs.sync_minutes)
    s.setValue("preferences/reminders", "true" if prefs.reminders else "false")
    s.setValue("preferences/appearance", prefs.appearance)
    for kind in KINDS:
        days = prefs.cadence.get(kind)
        s.setValue(f"cadence/{kind}", "" if days is None else days)
    s.setValue("backup/folder", prefs.backup_folder)
    s.setValue("backup/days", prefs.backup_days)
    s.sync()


def check_server(text: str) -> str:
    """Why ``text`` is not a server address ("" when it is one, or empty: no team server)."""
    text = text.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
        return "Give the server's whole address, e.g. https://sync.example.com (or leave it empty)"
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return "The port after the colon must be a number, e.g. https://sync.example.com:8765"
    return ""


def check_preferences(
    *,
    server: str,
    paper: str,
    sync_minutes: str,
    reminders: bool,
    appearance: str,
    cadence: Mapping[str, str],
    backup_folder: str = "",
    backup_days: str = str(Preferences.backup_days),
) -> Preferences | dict[str, str]:
    """The preferences the form's text describes, or a message per field that is wrong."""
    errs: dict[str, str] = {}
    if why := check_server(server):
        errs["server"] = why
    low, high = SYNC_MINUTES
    minutes = _int(sync_minutes.strip(), None)
    if minutes is None or not low <= minutes <= high:
        errs["sync_minutes"] = f"Sync every {low} to {high:,} minutes (a whole number)"
    days: dict[str, int | None] = {}
    for kind in KINDS:
        text = cadence.get(kind, "").strip()
        value = _int(text, None) if text else None
        if text and (value is None or not CADENCE_DAYS[0] <= value <= CADENCE_DAYS[1]):
            errs[f"cadence_{kind}"] = (
                f"A number of days between {CADENCE_DAYS[0]} and {CADENCE_DAYS[1]}, or empty for none"
            )
        days[kind] = value
    folder = backup_folder.strip()
    if folder and not Path(folder).expanduser().is_absolute():
        errs["backup_folder"] = "Choose a whole folder path (Choose…), or leave it empty for the data folder"
    keep = _int(backup_days.strip(), None)
    if keep is None or not BACKUP_DAYS[0] <= keep <= BACKUP_DAYS[1]:
        errs["backup_days"] = f"Keep backups {BACKUP_DAYS[0]} to {BACKUP_DAYS[1]} days (a whole number)"
    if errs:
        return errs
    assert minutes is not None and keep is not None
    return Preferences(
        server=server.strip().rstrip("/"),
        paper=paper if paper in PAPERS else "",
        sync_minutes=minutes,
        reminders=reminders,
        appearance=appearance if appearance in APPEARANCES else "system",
        cadence=MappingProxyType(days),
        backup_folder=folder,
        backup_days=keep,
    )
