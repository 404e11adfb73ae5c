"""Issue 10 item 5: the app holds every value to the limits the sync server holds it to (one
definition, ``models.values``), and the forms say the limit. Before, the app saved a 250-character
role, a 210-character name or a 60-character tier that the server then refused: the row lived only
on its author's laptop.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from models.db import Database
from models.entities import Account, Contact
from models.errors import ValidationError
from models.services import accounts, commitments, contacts, notes
from models.services.accounts import AccountInput
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from models.types import to_wire
from models.values import check_value, entity_fields
from tests.support.gui_helpers import visible
from ui.dialogs import AccountDialog, ContactDialog
from ui.main_window import MainWindow

WAIT = 5000


def _refusal(db: Database, action: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught, db.write() as s:
        action(s)  # type: ignore[operator]
    return caught.value.field_errors


def test_the_services_refuse_what_the_server_would(db: Database) -> None:
    assert _refusal(db, lambda s: contacts.create_contact(s, ContactInput(name="Ann", role="r" * 250))) == {
        "role": "Role is too long: 250 characters (at most 200)"
    }
    assert _refusal(db, lambda s: contacts.create_contact(s, ContactInput(name="n" * 210))) == {
        "name": "Name is too long: 210 characters (at most 200)"
    }
    assert _refusal(db, lambda s: accounts.create_account(s, AccountInput(name="Acme", tier="t" * 60))) == {
        "tier": "Tier is too long: 60 characters (at most 50)"
    }
    # PostgreSQL cannot store NUL: refused in the form, not by the server after the fact.
    assert _refusal(db, lambda s: contacts.create_contact(s, ContactInput(name="Ann", about="a\x00b"))) == {
        "about": "About contains a NUL character, which cannot be stored"
    }
    assert _refusal(
        db, lambda s: contacts.create_contact(s, ContactInput(name="Ann", tags=["ok", "b\x00d"]))
    ) == {"tags": "Tags must be a list of texts"}
    # The existing words stay where a service already said it its own way.
    assert _refusal(db, lambda s: notes.add_note(s, NoteInput(summary="s" * 501))) == {
        "summary": "Keep the summary under 500 characters; put the rest in the body",
        "contact_id": "A note belongs to a contact or an account",
    }
    with db.write() as s:
        cid = contacts.create_contact(s, ContactInput(name="n" * 200, role="r" * 200))
        accounts.create_account(s, AccountInput(name="Acme", tier="t" * 50))
    assert _refusal(
        db, lambda s: commitments.add_commitment(s, CommitmentInput(what="w" * 501, contact_id=cid))
    ) == {"what": "What is too long: 501 characters (at most 500)"}


def test_every_value_the_services_save_passes_the_servers_check(db: Database) -> None:
    """The same definition on both ends: what the app saves, the server takes."""
    with db.write() as s:
        cid = contacts.create_contact(
            s,
            ContactInput(
                name="n" * 200,
                role="r" * 200,
                emails=["a@b.de"],
                personal_dates=[("Anniversary", "2019-04-01")],
                tags=["vip"],
                cadence_days=14,
            ),
        )
    with db.read() as s:
        row = s.get(Contact, cid)
        assert row is not None
        for name, spec in entity_fields()["contact"].items():
            check_value(spec, name, to_wire(getattr(row, name)))


def test_the_forms_say_the_limit_and_keep_an_old_longer_value_whole(
    qtbot: QtBot,
    window: MainWindow,
    db: Database,
) -> None:
    window.new_contact_action.trigger()
    dialog = visible(ContactDialog)
    assert dialog.editor("role").maxLength() == 200 and dialog.editor("name").maxLength() == 200
    hints = [
        label.text()
        for label in dialog.editor("role").parentWidget().findChildren(QLabel)
        if label.isVisible()
    ]
    assert hints == ["Up to 200 characters"]
    dialog.editor("name").setText("Ann")
    dialog.editor("role").insert("r" * 250)  # a paste: typing stops at the limit
    assert dialog.editor("role").text() == "r" * 200
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.buttons.accepted.emit()

    # A tier saved before the limit was checked: the form shows it whole and says what is wrong.
    with db.write() as s:
        old = Account(name="Old", tier="t" * 60)
        s.add(old)
        s.flush()
        account_id = old.id
    with db.read() as s:
        row = accounts.get_account(s, account_id)
    edit = AccountDialog(window.ctx, row, window)
    edit.show()
    assert edit.editor("tier").text() == "t" * 60
    edit.buttons.accepted.emit()
    qtbot.waitUntil(lambda: edit.error_text("tier") != "", timeout=WAIT)
    assert edit.error_text("tier") == "Tier is too long: 60 characters (at most 50)"
    assert edit.isVisible()
    edit.reject()


def test_a_described_field_with_no_rule_of_its_own_is_cleaned_by_its_editor_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plain field added later (any of these editors) is saved cleaned without new code, and
    one whose kind has no generic rule is refused loudly rather than silently not saved."""
    from types import SimpleNamespace

    from models import validation
    from models.shown import Shown
    from models.values import Described, FieldSpec

    def field(name: str, editor: Any) -> Described:
        return Described(name, Shown(name.title(), editor), FieldSpec("str", True, None, None))

    kinds = [
        field("a", "line"),
        field("b", "text"),
        field("c", "list"),
        field("d", "date"),
        field("e", "count"),
    ]
    monkeypatch.setattr(validation, "described", lambda _cls: kinds)
    inp = SimpleNamespace(a=" x ", b=" y\n", c=[" p ", " ", "q"], d="2001-02-03", e=" 7 ")
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    validation.clean_described(Contact, inp, values, errors)
    assert values == {"a": "x", "b": "y", "c": ["p", "q"], "d": date(2001, 2, 3), "e": 7} and errors == {}
    values = {}
    validation.clean_described(
        Contact, SimpleNamespace(a="", b="", c=[], d="3 Feb", e="seven"), values, errors
    )
    assert set(errors) == {"d", "e"} and values["e"] is None
    monkeypatch.setattr(validation, "described", lambda _cls: [field("f", "choice")])
    with pytest.raises(TypeError, match="needs a cleaning rule"):
        validation.clean_described(Contact, SimpleNamespace(f="x"), {}, {})
