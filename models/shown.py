"""How the rep sees a field: its label, its editor, and where it shows, declared with its column.

A column says ``info=shown("Preferences", "text", sheet="remember")``; ``models.values.described``
joins that with what the column may hold (type, length limit, choices, shape). The contact and
account forms build their editors from it in declaration order, the contact page its rows and
the briefing sheet its lines. Places with a layout of their own (the page's heading, the sheet's
glance and reach boxes, the dates line) print their fields by hand; ``section`` on the page and
``remember`` on the sheet take any field as it comes, so a plain new field needs no UI code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# What the form edits the field with (``ui.field_editors`` makes the widget for each):
# line: one line of text; text: a box of several lines; choice: one of the column's choices;
# account: a live account or none; contact: a live contact or none, picked by name;
# list: several texts in one line, comma-separated; date: YYYY-MM-DD or empty;
# dates: "Label: YYYY-MM-DD" lines; count: a whole number or empty.
Editor = Literal["line", "text", "choice", "account", "contact", "list", "date", "dates", "count"]
# Where the contact page shows it: "section" is a titled block (in field order) under the
# heading; the others are the heading's own lines.
DetailPlace = Literal["heading", "reach", "checkin", "dates", "section"]
# Where the briefing sheet prints it: "remember" is a labelled line in the Remember block (in
# field order); the others have a layout of their own in the template.
SheetPlace = Literal["heading", "glance", "reach", "dates", "remember"]


@dataclass(frozen=True)
class Shown:
    label: str
    editor: Editor
    hint: str = ""  # the grey words under the editor
    placeholder: str = ""
    height: int = 60  # of a text box, in pixels
    detail: DetailPlace | None = "section"
    sheet: SheetPlace | None = None
    sheet_label: str = ""  # when the sheet's (upper-cased) label is not the form's

    @property
    def printed_label(self) -> str:
        return (self.sheet_label or self.label).upper()


def shown(label: str, editor: Editor, **kwargs: Any) -> dict[str, Any]:
    """A column's ``info`` entry describing how it is shown (merge with ``choices``/``shape``)."""
    return {"shown": Shown(label, editor, **kwargs)}
