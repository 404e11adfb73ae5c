"""The contact form, the contact page and the briefing sheet agree with the fields' descriptions
(``info=shown(...)`` on the columns, ``models.values.described``).

Each described field gets a value of its own (the generic one for its editor, unless it needs a
real email, phone, account...), so a field added later is covered without touching this file:
it must have an editor with its label, in order, that shows and reads back its value; it must
show on the contact page with its value if it has a place there; and on a printed sheet (a real
PDF, read back) with its value, and for a Remember line its label, if it has a place on it.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFormLayout, QLabel
from pytestqt.qtbot import QtBot

from models.db import Database
from models.entities import Account, Contact
from models.rows import KeptRate
from models.services import accounts, briefing, contacts
from models.services.accounts import AccountInput
from models.services.contacts import ContactInput
from models.values import Described, described
from tests.support.briefing_data import TODAY, flat, pdf_pages
from ui.contact_detail import profile_html
from ui.dialogs import AccountDialog, ContactDialog
from ui.main_window import MainWindow
from ui.printing.render import write_pdf

ACCOUNT = "Described Holdings"
# Fields whose values the services check for meaning, and what the page and the sheet make of
# them: (value typed, texts on the contact page, texts on the sheet).
SPECIAL: dict[str, tuple[Any, list[str], list[str]]] = {
    "kind": ("partner", ["Partner"], ["PARTNER"]),
    "account_id": (None, [ACCOUNT], [ACCOUNT]),  # the value is the account made below
    "emails": (["dee@described.example"], ["dee@described.example"], ["dee@described.example"]),
    "phones": (["+44 20 7946 0958"], ["+44 20 7946 0958"], ["+44 20 7946 0958"]),
    "birthday": (date(1979, 3, 14), ["Birthday: 14 March"], ["Birthday (turns"]),
    "personal_dates": (
        [("Work anniversary", "2015-06-01")],
        ["Work anniversary: 2015-06-01"],
        ["Work anniversary (", "01 Jun"],
    ),
    "cadence_days": (30, ["every 30 days"], ["every 30 days"]),
    "cadence_max_days": (45, ["losing touch after 45 days"], []),
    "stake_role": ("decision_maker", ["Decision maker"], []),
}


def _generic(field: Described) -> tuple[Any, list[str]]:
    """A value for a plain field of this editor, and the texts it shows as."""
    word = f"Value-of-{field.name}"
    if field.shown.editor in ("line", "text"):
        return word, [word]
    if field.shown.editor == "list":
        return [word, f"More-{field.name}"], [word, f"More-{field.name}"]
    if field.shown.editor == "count":
        return 47, ["47"]
    if field.shown.editor == "date":
        return date(2001, 2, 3), ["2001-02-03"]
    raise AssertionError(f"give {field.name} ({field.shown.editor}) a value in SPECIAL")


def _contact(db: Database) -> tuple[uuid.UUID, dict[str, list[str]], dict[str, list[str]]]:
    """A contact with every described field filled, and the texts each field shows as on the
    contact page and on the sheet."""
    values: dict[str, Any] = {}
    on_page: dict[str, list[str]] = {}
    on_sheet: dict[str, list[str]] = {}
    with db.write() as s:
        account_id = accounts.create_account(s, AccountInput(ACCOUNT))
        for field in described(Contact):
            if field.name in SPECIAL:
                value, on_page[field.name], on_sheet[field.name] = SPECIAL[field.name]
            else:
                value, shows = _generic(field)
                on_page[field.name] = on_sheet[field.name] = shows
            values[field.name] = account_id if field.name == "account_id" else value
        contact_id = contacts.create_contact(s, ContactInput(**values))
    return contact_id, on_page, on_sheet


def _form_rows(form: QFormLayout) -> list[tuple[str, Any]]:
    rows = []
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget()
        box = form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget()
        assert isinstance(label, QLabel)
        rows.append((label.text(), box))
    return rows


def test_the_contact_form_has_an_editor_for_every_described_field_with_its_label_in_order(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    contact_id, _, _ = _contact(db)
    with db.read() as s:
        detail = contacts.get_contact(s, contact_id)
    dialog = ContactDialog(window.ctx, detail, window)
    qtbot.addWidget(dialog)
    fields = described(Contact)
    rows = _form_rows(dialog.form)
    assert [label for label, _ in rows] == [f.shown.label for f in fields]
    for (_, box), field in zip(rows, fields, strict=True):
        assert dialog.editor(field.name).parentWidget() is box
        if field.shown.hint:
            assert any(field.shown.hint in t.text() for t in box.findChildren(QLabel)), field.name
    # Every editor shows the stored value and reads back what saves it again (once the accounts
    # have loaded into the account picker; the form reads text as typed, the service cleans it).
    account = dialog.editor("account_id")
    qtbot.waitUntil(lambda: account.currentText() == ACCOUNT, timeout=5000)  # type: ignore[attr-defined]
    assert contacts.clean_contact(dialog.collect()) == contacts.clean_contact(contacts.contact_input(detail))


def test_the_account_form_follows_the_account_fields(qtbot: QtBot, window: MainWindow) -> None:
    dialog = AccountDialog(window.ctx, None, window)
    qtbot.addWidget(dialog)
    assert [label for label, _ in _form_rows(dialog.form)] == [f.shown.label for f in described(Account)]


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&nbsp;", " ")


def test_the_contact_page_and_the_sheet_show_every_field_placed_on_them(db: Database, tmp_path: Path) -> None:
    contact_id, on_page, on_sheet = _contact(db)
    with db.read() as s:
        detail = contacts.get_contact(s, contact_id)
        sheet = briefing.contact_sheet(s, contact_id, TODAY)
    page = _plain(profile_html(detail, KeptRate(0, 0, 0), TODAY))
    pdf = tmp_path / "sheet.pdf"
    write_pdf([sheet], pdf)
    printed = "".join(pdf_pages(pdf)).replace("\u200b", "")
    for field in described(Contact):
        if field.shown.detail is not None:
            for text in on_page[field.name]:
                assert text in page, f"{field.name}: {text!r} is not on the contact page"
            if field.shown.detail == "section":
                assert field.shown.label in page, f"{field.name}: no section {field.shown.label!r}"
        else:
            assert all(text not in page for text in on_page[field.name]), field.name
        if field.shown.sheet is not None:
            for text in on_sheet[field.name]:
                assert flat(text) in printed, f"{field.name}: {text!r} is not on the sheet"
            if field.shown.sheet == "remember":
                assert flat(field.shown.printed_label) in printed, f"{field.name}: no line label"
        else:
            for text in on_sheet[field.name]:
                assert flat(text) not in printed, f"{field.name} is printed but not placed on the sheet"
