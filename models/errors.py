"""Typed errors. Those a rep can act on carry a message written for them.

Modelled on Anki's ``pylib/anki/errors.py``: the UI decides how to present an error by its
class, never by parsing a message.
"""

from __future__ import annotations


class RapportError(Exception):
    """An error the rep can understand and act on; ``str(err)`` is shown as is."""

    title = "Something went wrong"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(RapportError):
    """Input that cannot be saved. ``field_errors`` maps a form field to its explanation."""

    title = "Please check the form"

    def __init__(self, field_errors: dict[str, str]) -> None:
        self.field_errors = dict(field_errors)
        lines = [f"{name.replace('_', ' ').capitalize()}: {why}" for name, why in field_errors.items()]
        super().__init__("\n".join(lines) or "The input is not valid.")


class NotFoundError(RapportError):
    title = "Not found"


class AmbiguousError(RapportError):
    title = "More than one match"


class DatabaseError(RapportError):
    title = "Cannot open the database"


class DatabaseLockedError(DatabaseError):
    pass


class DatabaseReadOnlyError(DatabaseError):
    pass


class DatabaseCorruptError(DatabaseError):
    pass


class NotARapportDatabaseError(DatabaseError):
    pass


class DatabaseTooNewError(DatabaseError):
    pass


class DiskFullError(DatabaseError):
    title = "The disk is full"


class SampleDataError(RapportError):
    """Sample data and the rep's own records would mix (see models/sample.py)."""

    title = "Sample data"


class Cancelled(Exception):
    """The rep cancelled; never shown."""
