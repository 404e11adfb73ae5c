"""A contact moving between accounts, and an account deleted without its people, reach the
other laptops as ordinary synced changes (real server process, SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

from models.services import accounts, contacts, notes
from models.services.accounts import AccountInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from tests.support.sync_support import Laptop


def test_a_move_and_an_account_delete_reach_the_other_laptop_with_the_history(
    laptops: Callable[..., Laptop],
) -> None:
    a, b = laptops("ann"), laptops("bob")
    with a.db.write() as s:
        old = accounts.create_account(s, AccountInput("Müller Bäckerei"))
        new = accounts.create_account(s, AccountInput("Nordwind GmbH"))
        anna = contacts.create_contact(s, ContactInput("Anna Müller", account_id=old))
        for i in range(3):
            notes.add_note(s, NoteInput(f"Call {i}", contact_id=anna))
    a.sync()
    b.sync()
    with a.db.write() as s:
        detail = contacts.get_contact(s, anna)
        inp = contacts.contact_input(detail)
        inp.account_id = new
        contacts.update_contact(s, anna, inp)
    a.sync()
    b.sync()
    with b.db.read() as s:
        assert [n.account_id for n in notes.timeline(s, contact_id=anna)] == [new] * 3
        assert notes.timeline(s, account_id=old) == []
        assert len(notes.timeline(s, account_id=new)) == 3

    with a.db.write() as s:
        deletion = accounts.delete_account(s, new)
    a.sync()
    b.sync()
    with b.db.read() as s:
        assert contacts.get_contact(s, anna).account_id is None
        assert [n.account_id for n in notes.timeline(s, contact_id=anna)] == [None] * 3

    with a.db.write() as s:
        accounts.undo_account_delete(s, deletion)
    a.sync()
    b.sync()
    with b.db.read() as s:
        assert contacts.get_contact(s, anna).account_name == "Nordwind GmbH"
        assert [n.account_id for n in notes.timeline(s, contact_id=anna)] == [new] * 3
    assert a.snapshot() == b.snapshot()
