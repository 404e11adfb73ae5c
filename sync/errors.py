"""Sync errors a rep can act on (they carry a message written for them)."""

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
