"""Replaces pyinstaller-hooks-contrib's hook, which collects every phonenumbers submodule.

Rapport parses and formats numbers (models/validation.py); the geocoding, carrier and time-zone
tables are 5 MB it never reads. build.spec also excludes them, so an import of one fails the
build's analysis loudly instead of bloating the bundle quietly.
"""

from PyInstaller.utils.hooks import collect_submodules

UNUSED = ("geocoder", "geodata", "carrier", "carrierdata", "timezone", "tzdata")

hiddenimports = collect_submodules(
    "phonenumbers", filter=lambda name: name.split(".")[1:2] not in [[part] for part in UNUSED]
)
