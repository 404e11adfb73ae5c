"""Briefing sheets on paper and PDF.

- ``render``: the one renderer (template -> QTextDocument -> any QPagedPaintDevice), ``write_pdf``.
- ``preview``: ``show_briefing_preview`` and ``save_briefing_pdf`` for the pages (given the app context).
- ``cli``: ``main.py brief``.

Kept empty of imports so the command line does not load QtWidgets.
"""
