"""Sync errors a rep can act on (they carry a message written for them), and the one signal
between the sync modules that never reaches the rep (``ServerWentBack``)."""

from __future__ import annotations

from models.errors import RapportError


class SyncError(RapportError):
    title = "Sync failed"


class ServerUnreachable(SyncError):
    title = "Offline"


class AuthRejected(SyncError):
    title = "Please log in again"


class VersionMismatch(SyncError):
    title = "Please update Rapport"


class SyncFailed(SyncError):
    pass


class NotLoggedIn(SyncError):
    title = "Please log in"


class SampleDataNotSynced(SyncError):
    title = "Sample data"


class SyncBusy(SyncError):
    title = "Sync already running"


class ServerWentBack(Exception):
    """The server went back in time (a restore), changed its epoch, or forgot this laptop: the
    client gives back what it lacks, registers again and starts over. Raised by the push, the
    pull and the first-sync download alike; ``SyncClient`` always catches it."""
