"""``rapport --self-test``: does this installed or bundled app have every part it needs?

A bundle that lost a hidden import, a data file or a Qt plugin starts on the build machine and
fails on a rep's laptop. The self-test walks what a first day touches, in a temporary folder
(nothing of the user's is read or written): Qt with its platform and image plugins, the
migrations on a new database, sample rows through the services, the contact list's search, the
main window on that database, a briefing sheet to PDF, the icon, a sign-in round trip to a
stand-in server on loopback, and the keychain.

Each step prints a line; the first failure prints its reason on stderr and the exit status is 1.
The steps import what they test when they run, so a bundle missing a module fails at that
step with its name rather than before the first line.

The PDF is checked lightly, without a PDF library (pypdf is a development tool, and a reader in
the bundle only for this is weight a rep carries): the file is whole (header, ``%%EOF``), has the
page count the renderer reported, every page is A4, the fonts are embedded (text was drawn with
a real font) and the title in its XMP metadata, which Qt writes uncompressed, names the contact.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from models.paths import DATA_OVERRIDE, migrations_dir, resource_path

if TYPE_CHECKING:
    from PySide6.QtCore import QMessageLogContext, QtMsgType

# A name no sample row has, so the search must find exactly the contact the self-test made.
PROBE_NAME = "Quillon Selftest"
PROBE_ACCOUNT = "Selftest Probe Works"
A4_POINTS = (595, 842)


class SelfTestFailure(Exception):
    """A step found something missing or wrong; the message is the reason shown."""


@dataclass
class _State:
    folder: Path
    db: object | None = None
    contact_id: object | None = None
    window: object | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _require(ok: bool, reason: str) -> None:
    if not ok:
        raise SelfTestFailure(reason)


def _ensure_application() -> object:
    """The widgets application, offscreen where there is no display (CI, a server, ssh)."""
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from ui.headless import offscreen_without_display

    app = QApplication.instance()
    if app is None:
        offscreen_without_display()
        app = QApplication(sys.argv[:1])
        if QApplication.platformName() == "offscreen":
            qInstallMessageHandler(_quiet_offscreen)
    return app


def _quiet_offscreen(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's messages on stderr as usual, less the offscreen platform's notes that it cannot
    resize or raise windows (no screen; nothing is wrong)."""
    if "This plugin does not support" not in message:
        print(message, file=sys.stderr)


def _step_qt(state: _State) -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion
    from PySide6.QtGui import QGuiApplication

    from ui.appearance import follow_appearance, is_dark
    from ui.branding import apply_branding

    app = _ensure_application()
    assert isinstance(app, QGuiApplication)
    apply_branding(app)
    stylesheet = resource_path("style.qss")
    _require(stylesheet.is_file(), f"the stylesheet is missing: {stylesheet}")
    follow_appearance("system")  # as the app starts: the stylesheet and its colours for both schemes
    scheme = "dark" if is_dark() else "light"
    return f"Qt {qVersion()} (PySide6 {pyside_version}), platform {QGuiApplication.platformName()}, {scheme}"


def _step_database(state: _State) -> str:
    from sqlalchemy import text

    from models.db import open_database
    from models.migrate import head_revision, known_revisions

    folder = migrations_dir()
    _require((folder / "env.py").is_file(), f"the database migrations are missing: no env.py in {folder}")
    db = open_database(state.folder / "self-test.sqlite")
    state.db = db
    with db.read() as s:
        revision = s.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    _require(
        revision == head_revision(), f"the database is at {revision}, the migrations end at {head_revision()}"
    )
    return f"new database migrated to {revision} ({len(known_revisions())} migrations)"


def _step_rows(state: _State) -> str:
    from models.db import Database
    from models.demo import fill_demo
    from models.services.accounts import AccountInput, create_account
    from models.services.contacts import ContactInput, count_contacts, create_contact

    db = state.db
    assert isinstance(db, Database)
    counts = fill_demo(db, contacts=40, notes_per_contact=2, seed=14)
    # One contact through the services (validation, change tracking, the search index's
    # triggers), the way the rep's form saves one.
    with db.write() as s:
        account = create_account(s, AccountInput(name=PROBE_ACCOUNT, address="1 Test Street"))
        state.contact_id = create_contact(
            s,
            ContactInput(
                name=PROBE_NAME,
                account_id=account,
                role="Buyer",
                emails=["quillon@example.com"],
                phones=["+44 20 7946 0958"],
                tags=["selftest"],
            ),
        )
    with db.read() as s:
        total = count_contacts(s)
    _require(total == counts["contacts"] + 1, f"{total} contacts after adding {counts['contacts']} and 1")
    return f"{total} contacts, {counts['notes']} notes, {counts['visits']} visits"


def _step_search(state: _State) -> str:
    from models.db import Database
    from models.services.contacts import list_contacts

    db = state.db
    assert isinstance(db, Database)
    with db.read() as s:
        by_name = list_contacts(s, "quillon")
        by_account = list_contacts(s, "probe works")
    _require(
        [r.id for r in by_name] == [state.contact_id],
        f"the search for 'quillon' found {len(by_name)} contacts, not the one added",
    )
    _require(
        state.contact_id in {r.id for r in by_account},
        "the search for the account name 'probe works' did not find its contact",
    )
    return "the contact list's search finds the new contact by name and by account"


def _step_import(state: _State) -> str:
    from models.db import Database
    from models.services.import_file import prepare, read_source
    from models.services.importing import plan_import

    db = state.db
    assert isinstance(db, Database)
    # vCard 2.1 as a phone writes it (quoted-printable UTF-8): vobject reads its lines.
    path = state.folder / "self-test.vcf"
    path.write_bytes(
        b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n"
        b"TEL;CELL:+49 170 1234567\r\nEND:VCARD\r\n"
    )
    prepared = prepare(read_source(path), None)
    with db.read() as s:
        plan = plan_import(s, prepared.cards, prepared.skipped)
    _require(plan.new == ("Jürgen Müller",), f"the test card read as {plan.new}, skipped {plan.skipped}")
    return "a vCard 2.1 card read and matched (nothing written)"


def _step_duplicates(state: _State) -> str:
    # rapidfuzz is a compiled extension: a bundle without it fails here, and one without its
    # compiled scorers (chosen at run time, so easy to leave out) would run the pure Python ones.
    from rapidfuzz import fuzz, process

    from models.db import Database
    from models.services.duplicates import find_duplicates, likely_matches

    for scorer in (fuzz.token_sort_ratio, process.extract):
        _require(
            "_cpp" in scorer.__module__,
            f"rapidfuzz runs its pure Python {scorer.__name__} ({scorer.__module__}): "
            "the compiled one is missing",
        )

    db = state.db
    assert isinstance(db, Database)
    with db.read() as s:
        found = likely_matches(s, PROBE_NAME.lower(), None, emails=["QUILLON@example.com"])
        find_duplicates(s)
    _require(
        [m.id for m in found] == [state.contact_id],
        f"typing the new contact's email again warned of {len(found)} contacts, not the one added",
    )
    return "a contact typed again is recognised; the duplicates finder runs"


def _step_window(state: _State) -> str:
    from PySide6.QtCore import QEventLoop, QTimer

    from models.db import Database
    from ui.app import build_window
    from ui.errors import ErrorPresenter

    db = state.db
    assert isinstance(db, Database)
    window = build_window(db, ErrorPresenter(None))
    state.window = window
    loop = QEventLoop()
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    window.contacts.model.loaded.connect(loop.quit)
    window.show()
    window.start()
    timer.start(20_000)
    loop.exec()
    rows = window.contacts.model.rowCount()
    _require(timer.isActive(), "the main window's contact list did not load within 20 s")
    timer.stop()
    _require(rows > 0, "the main window's contact list is empty")
    return f"main window shown, contact list loaded {rows} rows"


def _step_briefing(state: _State) -> str:
    from models.db import Database
    from models.services.briefing import contact_sheet
    from ui.printing.render import write_pdf

    db = state.db
    assert isinstance(db, Database)
    template = resource_path("templates", "briefing.html")
    _require(template.is_file(), f"the briefing sheet's template is missing: {template}")
    with db.read() as s:
        sheet = contact_sheet(s, state.contact_id)  # type: ignore[arg-type]
    out = state.folder / "briefing.pdf"
    missing: list[set[str]] = []
    pages = write_pdf([sheet], out, paper="A4", missing=missing)
    _require(not any(missing), f"no installed font draws {sorted(set().union(*missing))!r}")
    check_pdf(out.read_bytes(), pages=pages, title=f"Briefing: {PROBE_NAME}")
    return f"briefing sheet written to PDF: {pages} A4 page(s), {out.stat().st_size:,} bytes, fonts embedded"


_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]")


def check_pdf(data: bytes, *, pages: int, title: str, size: tuple[int, int] = A4_POINTS) -> None:
    """The light check of a PDF Qt wrote (see the module's docstring); raises with the reason."""
    _require(data.startswith(b"%PDF-1."), "the briefing PDF does not start with a PDF header")
    _require(b"%%EOF" in data[-1024:], "the briefing PDF is cut off (no %%EOF at its end)")
    found = len(_PAGE.findall(data))
    _require(found == pages, f"the briefing PDF has {found} pages, the renderer drew {pages}")
    boxes = [tuple(round(float(v)) for v in m) for m in _MEDIA_BOX.findall(data)]
    _require(
        len(boxes) >= pages and all(box == (0, 0, *size) for box in boxes),
        f"the briefing PDF's pages are not {size[0]}×{size[1]} pt: {sorted(set(boxes))}",
    )
    _require(re.search(rb"/FontFile[23]?\b", data) is not None, "the briefing PDF embeds no font")
    _require(title.encode("utf-8") in data, f"the briefing PDF's title is not '{title}'")


def _step_icon(state: _State) -> str:
    from PySide6.QtGui import QGuiApplication, QIcon, QImageReader

    svg = resource_path("icons", "rapport.svg")
    _require(svg.is_file(), f"the application icon is missing: {svg}")
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    _require("svg" in formats, "Qt's SVG image plugin is missing (icons would be blank)")
    _require(not QIcon(str(svg)).pixmap(64, 64).isNull(), f"Qt cannot draw {svg}")
    _require(not QGuiApplication.windowIcon().isNull(), "the application has no window icon")
    return f"application icon drawn from {svg.name}"


class _LoginHandler(BaseHTTPRequestHandler):
    """A stand-in for the team server's login on loopback: enough for one real round trip."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(
            {
                "token": "t",
                "username": "selftest",
                "team": None,
                "manager": False,
                "expires_at": "2099-01-01T00:00:00Z",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the self-test prints its own lines


def _step_network(state: _State) -> str:
    """The sync client's HTTP stack (httpx, the JSON schemas) against a server on loopback, and
    the certificates HTTPS to a real server would check against."""
    import ssl

    import certifi

    from sync.client import login

    cafile = Path(certifi.where())
    _require(cafile.is_file(), f"the HTTPS certificate store is missing: {cafile}")
    context = ssl.create_default_context(cafile=str(cafile))
    authorities = len(context.get_ca_certs())
    _require(authorities > 0, f"no certificate authority could be read from {cafile}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LoginHandler)
    thread = threading.Thread(target=server.serve_forever, name="self-test-http", daemon=True)
    thread.start()
    try:
        answer = login(f"http://127.0.0.1:{server.server_address[1]}", "selftest", "selftest")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    _require(answer.username == "selftest", f"the login round trip returned {answer!r}")
    return f"sync client signed in to a loopback server; HTTPS trusts {authorities} authorities"


def _step_keyring(state: _State) -> str:
    import keyring
    from keyring.backends import fail

    # keyring finds its backends through package metadata, which a bundle must carry.
    plugins = metadata.entry_points(group="keyring.backends")
    _require(len(plugins) > 0, "keyring finds no backends (its package metadata is missing)")
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        return f"no system keychain here ({name}): a sign-in is kept for the session only"
    return f"keychain backend {name}"


STEPS: list[tuple[str, Callable[[_State], str]]] = [
    ("qt", _step_qt),
    ("database", _step_database),
    ("rows", _step_rows),
    ("search", _step_search),
    ("import", _step_import),
    ("duplicates", _step_duplicates),
    ("window", _step_window),
    ("briefing", _step_briefing),
    ("icon", _step_icon),
    ("network", _step_network),
    ("keyring", _step_keyring),
]


def _close(state: _State) -> None:
    from PySide6.QtWidgets import QMainWindow

    from models.db import Database

    window = state.window
    if isinstance(window, QMainWindow):
        window.close()
        window.ctx.tasks.wait_idle(10_000)  # type: ignore[attr-defined]
    if isinstance(state.db, Database):
        state.db.close()


def run_self_test(out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run every step; 0 when all pass, 1 (the reason on ``err``) at the first that fails."""
    out = out or sys.stdout
    err = err or sys.stderr
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rapport-self-test-") as tmp:
        # Settings, logs and the window's saved state go to the temporary folder too.
        os.environ[DATA_OVERRIDE] = tmp
        state = _State(Path(tmp))
        try:
            for name, step in STEPS:
                step_started = time.perf_counter()
                try:
                    detail = step(state)
                except Exception as exc:  # any failure is the self-test's answer, with its reason
                    reason = str(exc) if isinstance(exc, SelfTestFailure) else f"{type(exc).__name__}: {exc}"
                    print(f"rapport self-test FAILED at {name}: {reason}", file=err, flush=True)
                    return 1
                ms = (time.perf_counter() - step_started) * 1000
                print(f"ok  {name:<9} {detail} ({ms:.0f} ms)", file=out, flush=True)
        finally:
            _close(state)
    print(f"rapport self-test passed in {time.perf_counter() - started:.1f} s", file=out, flush=True)
    return 0
