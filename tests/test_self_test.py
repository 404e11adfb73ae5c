"""``main.py --version`` and ``--self-test`` from source, as real processes with no display.

The same checks run on the built bundle in CI (tests/test_bundle.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from models.db import Database
from models.services.accounts import AccountInput, create_account
from models.services.briefing import contact_sheet
from models.services.contacts import ContactInput, create_contact
from models.version import VERSION
from tests.support.cli import ROOT, run_cli
from ui.self_test import STEPS, SelfTestFailure, check_pdf


def test_version_is_the_one_version(tmp_path: Path) -> None:
    out = run_cli("--version", data=tmp_path / "data")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"Rapport {VERSION}"


def test_self_test_passes_without_a_display_and_leaves_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = run_cli("--self-test", data=data)
    assert out.returncode == 0, out.stderr
    for name, _ in STEPS:
        assert f"ok  {name} " in out.stdout, out.stdout
    assert "platform offscreen" in out.stdout  # it chose offscreen by itself
    assert "rapport self-test passed" in out.stdout
    assert out.stderr == ""
    # Neither the user's data folder nor its log is touched.
    assert not data.exists() or list(data.rglob("*")) == []


def _broken_resources(tmp_path: Path, missing: str) -> Path:
    """A copy of resources/ without one file, as a bundle that lost it would be."""
    copy = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", copy)
    (copy / missing).unlink()
    return copy


def _self_test_with(resources: Path, data: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("--self-test", data=data, env={"RAPPORT_RESOURCES_DIR": str(resources)})


def test_self_test_fails_with_the_reason_when_the_template_is_missing(tmp_path: Path) -> None:
    resources = _broken_resources(tmp_path, "templates/briefing.html")
    out = _self_test_with(resources, tmp_path / "data")
    assert out.returncode == 1
    assert "FAILED at briefing: the briefing sheet's template is missing" in out.stderr
    assert str(resources / "templates" / "briefing.html") in out.stderr
    assert "passed" not in out.stdout


def test_self_test_fails_when_the_icon_is_missing(tmp_path: Path) -> None:
    resources = _broken_resources(tmp_path, "icons/rapport.svg")
    out = _self_test_with(resources, tmp_path / "data")
    assert out.returncode == 1
    assert "FAILED at icon: the application icon is missing" in out.stderr


# --- the PDF check, on real PDFs from the renderer ---------------------------------------------


@pytest.fixture
def sheet_pdf(qapp: object, db: Database, tmp_path: Path) -> tuple[bytes, int]:
    from ui.printing.render import write_pdf

    with db.write() as s:
        account = create_account(s, AccountInput(name="Probe Works"))
        contact = create_contact(s, ContactInput(name="Quillon Selftest", account_id=account))
    with db.read() as s:
        sheet = contact_sheet(s, contact)
    pages = write_pdf([sheet], tmp_path / "sheet.pdf", paper="A4")
    return (tmp_path / "sheet.pdf").read_bytes(), pages


def test_pdf_check_passes_a_whole_sheet(sheet_pdf: tuple[bytes, int]) -> None:
    data, pages = sheet_pdf
    check_pdf(data, pages=pages, title="Briefing: Quillon Selftest")


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda d: d[: len(d) // 2], "cut off"),
        (lambda d: b"<html>" + d[5:], "PDF header"),
        (lambda d: d.replace(b"/FontFile2", b"/FontFileX"), "embeds no font"),
        (lambda d: d.replace(b"Quillon", b"Quillom"), "title"),
        (lambda d: d.replace(b"842.000000", b"792.000000"), "595×842"),
    ],
)
def test_pdf_check_names_what_is_wrong(sheet_pdf: tuple[bytes, int], spoil: object, reason: str) -> None:
    data, pages = sheet_pdf
    assert callable(spoil)
    with pytest.raises(SelfTestFailure, match=reason):
        check_pdf(spoil(data), pages=pages, title="Briefing: Quillon Selftest")


def test_pdf_check_counts_pages(sheet_pdf: tuple[bytes, int]) -> None:
    data, pages = sheet_pdf
    with pytest.raises(SelfTestFailure, match=f"has {pages} pages, the renderer drew {pages + 1}"):
        check_pdf(data, pages=pages + 1, title="Briefing: Quillon Selftest")
