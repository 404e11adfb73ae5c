"""Text on a sheet that no installed font can draw, named by script for the rep.

Qt falls back through every installed font; a character none of them has is laid out as glyph 0
(.notdef) and prints as a blank, silently. The laid-out document says exactly which characters
came out that way, so the check reads the glyph runs Qt will paint rather than guessing from
font metadata: a font that claims "Japanese" but lacks a kanji still counts as missing it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from PySide6.QtGui import QTextDocument, QTextLayout

from models.services.briefing import BriefingSheet

# Words in Unicode character names that end a script's name ("ARABIC LETTER ALEF", "KHITAN SMALL
# SCRIPT CHARACTER-18B00", "DEVANAGARI VOWEL SIGN AA").
_NAME_ENDS = (
    "LETTER",
    "CAPITAL",
    "SMALL LETTER",
    "CHARACTER",
    "SYLLABLE",
    "SYLLABICS",
    "IDEOGRAPH",
    "SIGN",
    "VOWEL",
    "CONSONANT",
    "DIGIT",
    "NUMBER",
    "NUMERAL",
    "MARK",
    "PUNCTUATION",
    "HIEROGLYPH",
    "LIGATURE",
    "COMBINING",
    "FRACTION",
    "VIRAMA",
    "SYMBOL",
)
# Scripts a rep knows by the language rather than by Unicode's name.
_BY_LANGUAGE = {
    "HIRAGANA": "Japanese",
    "KATAKANA": "Japanese",
    "HALFWIDTH KATAKANA": "Japanese",
    "CJK": "Chinese/Japanese",
    "KANGXI": "Chinese/Japanese",
    "HANGUL": "Korean",
    "HALFWIDTH HANGUL": "Korean",
}
HAN = "Chinese/Japanese"


def _ignorable(ch: str) -> bool:
    """Characters that draw nothing anyway: spaces, joiners, variation selectors, controls."""
    category = unicodedata.category(ch)
    if category[0] in "CZ":
        return True
    return unicodedata.name(ch, "").startswith("VARIATION SELECTOR")


def script_name(ch: str) -> str:
    """A script name a rep recognises ("Japanese", "Tibetan", "Khitan Small Script", "Emoji")."""
    name = unicodedata.name(ch, "")
    code = ord(ch)
    if not name:
        if 0x17000 <= code <= 0x18AFF or 0x18D00 <= code <= 0x18D8F:
            return "Tangut"
        if 0x3400 <= code <= 0x9FFF or 0x20000 <= code <= 0x3FFFF:
            return HAN
        return f"Unicode U+{code:04X}"
    for prefix, language in _BY_LANGUAGE.items():
        if name.startswith(prefix + " "):
            return language
    words = name.split()
    for end in range(1, len(words)):
        # "CHARACTER-18B00": algorithmic names carry the code point after a hyphen.
        if " ".join(words[end : end + 2]) in _NAME_ENDS or words[end].split("-")[0] in _NAME_ENDS:
            return " ".join(words[:end]).title()
    if unicodedata.category(ch).startswith("S"):
        return "Emoji" if code >= 0x1F000 or 0x2600 <= code <= 0x27BF else "Symbol"
    return words[0].title()


def missing_characters(doc: QTextDocument) -> set[str]:
    """Every character of the laid-out ``doc`` that prints as a blank (no font has a glyph)."""
    flags = (
        QTextLayout.GlyphRunRetrievalFlag.RetrieveGlyphIndexes
        | QTextLayout.GlyphRunRetrievalFlag.RetrieveStringIndexes
    )
    doc.documentLayout().documentSize()  # lays the document out if it is not yet
    missing: set[str] = set()
    block = doc.begin()
    while block.isValid():
        text = block.text()
        # Glyph runs index the text in UTF-16 units: one entry per unit, naming its character.
        units = [ch for ch in text for _ in range(2 if ord(ch) > 0xFFFF else 1)]
        layout = block.layout()
        if units and layout is not None and layout.lineCount():
            # PySide's default arguments (-1, -1) return no runs: pass the range explicitly.
            for run in layout.glyphRuns(0, len(units), flags):
                for glyph, index in zip(run.glyphIndexes(), run.stringIndexes(), strict=False):
                    if glyph == 0 and 0 <= index < len(units) and not _ignorable(units[index]):
                        missing.add(units[index])
        block = block.next()
    return missing


def missing_scripts(characters: set[str]) -> list[str]:
    """The scripts of ``characters``, sorted; Han counts as Japanese or Korean beside kana or hangul."""
    scripts = {script_name(ch) for ch in characters}
    if HAN in scripts and ({"Japanese", "Korean"} & scripts):
        scripts.discard(HAN)
    return sorted(scripts)


def font_warning(sheets: Sequence[BriefingSheet], missing: Sequence[set[str]]) -> str:
    """A warning for the rep naming each script that prints blank, or "" when everything prints.

    ``missing`` holds each sheet's undrawable characters (:func:`missing_characters`).
    """
    where: dict[str, list[str]] = {}
    for sheet, characters in zip(sheets, missing, strict=True):
        for script in missing_scripts(characters):
            where.setdefault(script, []).append(sheet.reference)
    lines = []
    for script, refs in sorted(where.items()):
        if len(sheets) == 1:
            on = "on this sheet"
        else:
            on = f"on {len(refs)} of the {len(sheets)} sheets ({', '.join(refs)})"
        lines.append(f"{script} text {on} cannot be shown: no {script} font is installed.")
    if lines:
        lines.append(
            "Everything else prints; those characters come out blank (or as empty boxes)"
            " until a font for them is installed."
        )
    return "\n".join(lines)


def sheets_font_warning(sheets: Sequence[BriefingSheet], html: Sequence[str] | None = None) -> str:
    """:func:`font_warning` for sheets not laid out yet: the preview's worker, before painting."""
    from ui.printing.render import build_document  # render imports this module

    # Which font draws a character does not depend on the line width: any width will do.
    docs = [
        build_document(s, html[i] if html is not None else None, width_px=700) for i, s in enumerate(sheets)
    ]
    return font_warning(sheets, [missing_characters(d) for d in docs])
