"""What each entity's fields may hold, and how a pushed patch is checked against it.

The specs are declared once, with the client's ORM classes (``models.values``): the app's
services check the same limits before saving, the server checks every pushed value before it
stores it. A forged or buggy patch is rejected, that one change only, never stored: what the
server stores it can always send back.
"""

from __future__ import annotations

from typing import Any

from models.values import FieldError, FieldSpec, check_value, entity_fields

__all__ = [
    "CONTACT_REFS",
    "COPY_FIELDS",
    "MERGED_INTO",
    "PARENT_FIELDS",
    "SET_FIELDS",
    "FieldError",
    "FieldSpec",
    "check_patch",
    "check_value",
    "entity_fields",
]


def _merged(policy: str) -> frozenset[tuple[str, str]]:
    # Declared on the columns with the rest of each field (``info={"merge": ...}``).
    return frozenset(
        (entity, name)
        for entity, specs in entity_fields().items()
        for name, s in specs.items()
        if s.merge == policy
    )


# Fields merged as sets (additions and removals on both sides both survive).
SET_FIELDS = _merged("set")
# Fields whose overwritten value is kept as a separate copy of the row, not only in a record.
COPY_FIELDS = _merged("copy")
# References to a parent row: a child created under a parent deleted elsewhere is reported.
PARENT_FIELDS = {"account_id": "account", "contact_id": "contact"}
# A merged-away contact's tombstone names its survivor here (``models.services.merging``).
MERGED_INTO = "merged_into"
# Every field that holds contact ids (a foreign key, or a set such as ``visit.contact_ids``),
# found from the column definitions, so a table another change adds is covered: a push naming a
# merged-away contact there is re-pointed to its survivor. Not the merge pointer itself.
CONTACT_REFS = frozenset(
    (entity, name)
    for entity, specs in entity_fields().items()
    for name, s in specs.items()
    if s.refers == "contact" and name != MERGED_INTO
)


def _quoted(name: str) -> str:
    # A refusal's reason is stored and sent back: a client's own field name goes in escaped
    # (ascii()), so it can hold neither NUL nor a lone surrogate.
    return ascii(name[:40])


def check_patch(entity: str, patch: dict[str, Any], *, complete: bool) -> dict[str, Any]:
    """Validate a patch; for a create (``complete``) fill the fields it leaves out with defaults."""
    specs = entity_fields().get(entity)
    if specs is None:
        raise FieldError(f"unknown entity {_quoted(entity)}")
    for name, value in patch.items():
        spec = specs.get(name)
        if spec is None:
            raise FieldError(f"unknown field {entity}.{_quoted(name)}")
        check_value(spec, name, value)
    if not complete:
        return dict(patch)
    full = {name: spec.default for name, spec in specs.items()}
    full.update(patch)
    missing = [n for n, s in specs.items() if full[n] is None and not s.nullable]
    if missing:
        raise FieldError(f"missing required field(s): {', '.join(sorted(missing))}")
    return full
