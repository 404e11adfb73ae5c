"""The sync token in the OS keychain (``keyring``), for the command line and the desktop alike.

The token is the one secret of a linked laptop: it never goes into the database (which keeps
the server address and the user name). Without a keychain backend the token is kept for this
process only, and ``save_token`` says so, so the caller can tell the rep.
"""

from __future__ import annotations

import keyring
import keyring.errors
from keyring.backends import fail

SERVICE = "rapport-sync"
# A keychain-less login keeps its token here, for this process only.
_RUN_ONLY: dict[str, str] = {}


def _key(server: str, username: str) -> str:
    return f"{server.rstrip('/')} {username}"


def _has_keychain() -> bool:
    return not isinstance(keyring.get_keyring(), fail.Keyring)


def save_token(server: str, username: str, token: str) -> bool:
    """True if the token went to the keychain; False if it is kept for this run only."""
    if _has_keychain():
        try:
            keyring.set_password(SERVICE, _key(server, username), token)
            return True
        except keyring.errors.KeyringError:
            pass
    _RUN_ONLY[_key(server, username)] = token
    return False


def load_token(server: str, username: str) -> str | None:
    if _key(server, username) in _RUN_ONLY:
        return _RUN_ONLY[_key(server, username)]
    if not _has_keychain():
        return None
    try:
        return keyring.get_password(SERVICE, _key(server, username))
    except keyring.errors.KeyringError:
        return None
