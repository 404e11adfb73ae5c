"""The central sync server: ``python -m sync.server --help``.

Its packages are the ``server`` extra (``pip install '.[server]'``): a laptop's install and the
desktop bundle leave them out, so without them this package says what to install instead of
failing on the first import deep inside.
"""

from importlib.util import find_spec

_NEEDED = {"fastapi": "fastapi", "uvicorn": "uvicorn", "argon2": "argon2-cffi"}
_missing = [package for module, package in _NEEDED.items() if find_spec(module) is None]
if _missing:
    raise ImportError(
        f"The Rapport sync server needs {', '.join(_missing)}, which the desktop install leaves out. "
        "Install the server's packages with: pip install '.[server]' (from the Rapport folder)."
    )
