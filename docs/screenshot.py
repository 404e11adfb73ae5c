"""Make docs/screenshot.png, the README's picture of the main window (``make screenshot``).

The real window on the sample data (200 made-up contacts, seed 7), drawn offscreen with
QWidget.grab(), in a throw-away data folder: the picture follows the code, and nothing of the
user's own is read or written. ``--dark`` draws the dark appearance.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--dark", action="store_true", help="the dark appearance")
    parser.add_argument("--size", default="1280x720", help="window size, WIDTHxHEIGHT")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rapport-screenshot-") as folder:
        os.environ["RAPPORT_DATA_DIR"] = folder  # read by models.paths when asked, not at import
        if "QT_QPA_PLATFORM" not in os.environ:
            # Offscreen, on a screen big enough for the window (its default is 800x600, and the
            # window keeps to its screen).
            config = Path(folder) / "screen.json"
            screen = {"name": "shot", "x": 0, "y": 0, "width": 1600, "height": 1000, "logicalDpi": 96}
            config.write_text(json.dumps({"screens": [{**screen, "logicalBaseDpi": 96, "dpr": 1}]}))
            os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
        return shoot(args.out, dark=args.dark, size=args.size)


def shoot(out: Path, *, dark: bool, size: str) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from models.db import open_database
    from models.demo import fill_demo
    from models.paths import sample_db_path
    from models.sample import prepare_sample
    from ui.app import build_window
    from ui.appearance import follow_appearance
    from ui.errors import ErrorPresenter

    app = QApplication(sys.argv)
    app.setApplicationName("Rapport")
    follow_appearance("dark" if dark else "light")
    db = open_database(sample_db_path())
    prepare_sample(db)
    fill_demo(db, contacts=200, seed=7)
    presenter = ErrorPresenter(log_file=None)
    presenter.interactive = False
    window = build_window(db, presenter)
    width, height = (int(n) for n in size.split("x"))
    window.resize(width, height)
    window.show()
    window.start()

    def ready() -> bool:
        return (
            window.ctx.tasks.pending == 0
            and not window.contacts.model.busy
            and window.contacts.model.rowCount() > 0
            and window.contacts.detail.current() is not None
        )

    def check() -> None:
        if not ready():
            QTimer.singleShot(50, check)
            return
        if (window.width(), window.height()) != (width, height):
            # The first start fits the window to the screen, and the offscreen screen is 800x600.
            window.resize(width, height)
            QTimer.singleShot(100, check)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out)):
            print(f"screenshot: could not write {out}", file=sys.stderr)
            app.exit(1)
            return
        print(f"wrote {out} ({window.width()}x{window.height()})")
        app.exit(0)

    QTimer.singleShot(0, check)
    QTimer.singleShot(60_000, lambda: app.exit(2))  # never hang a make run
    code = int(app.exec())
    window.close()
    window.ctx.tasks.wait_idle()
    db.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
