"""An import and its undo reach another laptop through a real server like edits typed by hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from models.services import importing
from models.services.import_file import prepare, read_source
from tests.support.contact_files import APPLE_30, GOOGLE_30
from tests.support.sync_support import Laptop, contact


def test_an_import_and_its_undo_sync(laptops: Callable[..., Laptop], tmp_path: Path) -> None:
    a, b = laptops("ann"), laptops("bob")
    ana = a.add(contact("Ana G.", emails=["ana.garcia@panaderia-delta.es"]))
    a.sync()
    b.sync()
    path = tmp_path / "contacts.vcf"
    path.write_text(GOOGLE_30 + APPLE_30, encoding="utf-8")
    prepared = prepare(read_source(path), None)
    with a.db.write() as s:
        result = importing.apply_import(s, prepared.cards, source=path.name)
    assert (result.created, result.merged, result.accounts) == (1, 1, 2)
    assert result.import_id is not None
    assert a.sync().rejected == 0
    b.sync()
    assert a.snapshot() == b.snapshot()
    assert b.get("contact", ana).phones == ["+34 912 34 56 78"]  # filled in on a, seen on b

    with a.db.write() as s:
        importing.undo_import(s, result.import_id)
    assert a.sync().rejected == 0
    b.sync()
    assert a.snapshot() == b.snapshot()
    assert b.get("contact", ana).phones == []
    live = [row for (entity, _id), row in b.snapshot().items() if entity == "contact" and not row["deleted"]]
    assert [row["name"] for row in live] == ["Ana G."]
