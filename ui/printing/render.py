"""The one renderer for briefing sheets: preview, paper and PDF all go through :func:`render_sheets`.

A sheet is HTML from a Jinja2 template (autoescaped, so user text never becomes markup), laid
out by QTextDocument at 96 px per inch with design metrics, then painted page by page, scaled
to the device. Laying out in device-independent units keeps a preview, a 600 dpi printer and
a PDF identical. Each sheet is its own document, so a day's route breaks cleanly between
visits and each page's footer names the sheet it belongs to.
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import jinja2
import segno
from markupsafe import Markup, escape
from PySide6.QtCore import QLocale, QMarginsF, QPointF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

from models.entities import Contact
from models.errors import Cancelled, RapportError
from models.paths import resource_path
from models.rows import CommitmentRow, ContactDetail, PurchaseRow
from models.services.briefing import BriefingSheet
from models.services.health import Health
from models.services.notes import channel_label
from models.services.nps import classify
from models.values import Described, described
from ui.printing.fonts import missing_characters

LAYOUT_DPI = 96.0
MARGIN_MM = 12.0
FOOTER_MM = 7.0
QR_MM = 22.0
RULE_MM = 8.5
FONT_FAMILY = '"Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", "Noto Sans Arabic", sans-serif'
PAPERS = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}

Progress = Callable[[int, int], None]


def _px(mm: float) -> float:
    return mm / 25.4 * LAYOUT_DPI


# --- template --------------------------------------------------------------------------------


def _lines(text: str) -> Markup:
    """Escape, then keep the rep's line breaks."""
    return Markup("<br>").join(escape(line) for line in str(text).splitlines())


def _clip(text: str, limit: int, max_lines: int = 3) -> str:
    """At most ``limit`` characters and ``max_lines`` lines, ending in an ellipsis when cut:
    the sheet recalls an interaction, the full note stays in the app."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    clipped = "\n".join(lines[:max_lines])
    cut = len(lines) > max_lines or len(clipped) > limit
    if len(clipped) > limit:
        clipped = clipped[: limit - 1].rstrip()
    return clipped + "…" if cut else clipped


def _day(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone().date()
    return value.strftime("%d %b %Y")


def _day_long(value: datetime | date) -> str:
    if isinstance(value, datetime):
        value = value.astimezone().date()
    return value.strftime("%A %d %B %Y")


def _clock(value: datetime) -> str:
    return value.astimezone().strftime("%H:%M")


def _money(p: PurchaseRow) -> str:
    if p.amount_cents is None:
        return ""
    return f"{p.amount_cents / 100:,.2f} {p.currency}"


def _ago(days: int | None) -> str:
    if days is None:
        return "never"
    if days == 0:
        return "today"
    return f"{days} day{'' if days == 1 else 's'} ago"


def _category(score: int) -> str:
    """ "promoter", "passive" or "detractor" (models.services.nps)."""
    return classify(score)


def _reasons(health: Health) -> str:
    """The reasons that cost points (or, with none, the first said for the record)."""
    costly = [r.text for r in health.reasons if r.points]
    return "; ".join(costly or [r.text for r in health.reasons[:1]])


def _ahead(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days"


_EMAIL_BREAKS = re.compile(r"([.\-_+])|(@)")


def _email(address: str) -> Markup:
    """An address that wraps at its dots and before its ``@``, never in the middle of a word.

    A zero-width space is a line-break opportunity to Qt's line breaker and prints nothing.
    """
    return Markup(
        _EMAIL_BREAKS.sub(lambda m: f"{m.group(1)}\u200b" if m.group(1) else "\u200b@", str(escape(address)))
    )


def _filled(fields: Sequence[Described], contact: ContactDetail) -> list[tuple[Described, object]]:
    """(field, value) of the ``fields`` that hold something for ``contact``, in order."""
    return [(f, value) for f in fields if (value := getattr(contact, f.name)) not in (None, "", ())]


def _overdue_in(rows: Sequence[CommitmentRow], today: date) -> list[CommitmentRow]:
    return [c for c in rows if c.is_overdue(today)]


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(resource_path("templates")),
        autoescape=True,  # every value is text unless a filter says otherwise
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        lines=_lines,
        clip=_clip,
        day=_day,
        day_long=_day_long,
        clock=_clock,
        money=_money,
        overdue_in=_overdue_in,
        ago=_ago,
        ahead=_ahead,
        email=_email,
        channel=channel_label,
        filled=_filled,
        category=_category,
        reasons=_reasons,
    )
    return env


def qr_url(sheet: BriefingSheet) -> str:
    return f"rapport-qr:{sheet.reference}"


def sheet_html(sheet: BriefingSheet, *, with_qr: bool = True) -> str:
    """The sheet as HTML for QTextDocument. Pure Python: safe to call from a worker thread."""
    return (
        _environment()
        .get_template("briefing.html")
        .render(
            sheet=sheet,
            today=sheet.prepared_on,
            qr_url=qr_url(sheet) if with_qr else "",
            qr_px=round(_px(QR_MM)),
            font_family=FONT_FAMILY,
            remember=[f for f in described(Contact) if f.shown.sheet == "remember"],
        )
    )


def _qr_image(code: str) -> QImage:
    buf = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buf, kind="png", scale=8, border=0)
    image = QImage()
    image.loadFromData(buf.getvalue(), "PNG")
    return image


# --- paper -----------------------------------------------------------------------------------


def default_paper(locale: QLocale | None = None) -> str:
    """Letter where the locale measures in inches (US, Canada's printers follow), else A4."""
    locale = locale or QLocale()
    if locale.measurementSystem() == QLocale.MeasurementSystem.ImperialUSSystem:
        return "Letter"
    if locale.territory() in (QLocale.Country.Canada, QLocale.Country.Mexico, QLocale.Country.Philippines):
        return "Letter"
    return "A4"


def prepare_device(device: QPagedPaintDevice, paper: str | None = None) -> None:
    """Give a printer or PDF writer the sheet's paper size and margins."""
    size = QPageSize(PAPERS.get(paper or default_paper(), QPageSize.PageSizeId.A4))
    device.setPageLayout(
        QPageLayout(
            size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter
        )
    )


# --- rendering -------------------------------------------------------------------------------


_layout_lock = threading.Lock()
_layout_image: QImage | None = None


def _layout_device() -> QImage:
    """A fixed 96 dpi device to lay sheets out against (shared; only its metrics are read).

    Not the screen: on a HiDPI screen the default would turn points into more layout pixels
    and the sheet would print larger.
    """
    global _layout_image
    with _layout_lock:
        if _layout_image is None:
            image = QImage(1, 1, QImage.Format.Format_ARGB32)
            dots_per_metre = round(LAYOUT_DPI / 0.0254)
            image.setDotsPerMeterX(dots_per_metre)
            image.setDotsPerMeterY(dots_per_metre)
            _layout_image = image
        return _layout_image


def build_document(sheet: BriefingSheet, html: str | None = None, *, width_px: float) -> QTextDocument:
    """A laid-out QTextDocument for one sheet (GUI or worker thread; no widgets involved)."""
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(_layout_device())
    doc.setUseDesignMetrics(True)  # unhinted advances: the same line breaks at any device dpi
    font = QFont("Noto Sans")
    font.setPointSizeF(9.5)
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(qr_url(sheet)), _qr_image(sheet.reference))
    doc.setHtml(html if html is not None else sheet_html(sheet))
    doc.setTextWidth(width_px)
    return doc


def _page_metrics(device: QPagedPaintDevice) -> tuple[float, QRectF, float]:
    """(scale device px per layout px, body rect in layout px, footer top in layout px)."""
    scale = device.logicalDpiX() / LAYOUT_DPI
    rect = device.pageLayout().fullRectPixels(device.logicalDpiX())
    width = rect.width() / scale
    height = rect.height() / scale
    margin = _px(MARGIN_MM)
    footer = _px(FOOTER_MM)
    body = QRectF(margin, margin, width - 2 * margin, height - 2 * margin - footer)
    return scale, body, height - margin - footer * 0.55


def render_sheets(
    sheets: Sequence[BriefingSheet],
    device: QPagedPaintDevice,
    *,
    html: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    missing: list[set[str]] | None = None,
) -> int:
    """Paint ``sheets`` onto a printer or PDF writer, each starting on a new page.

    Returns the number of pages. ``html`` may carry the sheets' HTML made earlier in a worker.
    ``missing``, if given, receives each sheet's characters no installed font can draw.
    """
    if not sheets:
        raise ValueError("nothing to render")
    scale, body, footer_y = _page_metrics(device)
    painter = QPainter()
    if not painter.begin(device):
        raise OSError("The printer or PDF file could not be opened for writing.")
    pages = 0
    try:
        painter.scale(scale, scale)
        small = QFont("Noto Sans")
        small.setPixelSize(round(7.5 * LAYOUT_DPI / 72))  # pixels: the painter is already scaled
        heading = QFont("Noto Sans")
        heading.setPixelSize(round(10 * LAYOUT_DPI / 72))
        heading.setBold(True)
        for index, sheet in enumerate(sheets):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            doc = build_document(sheet, html[index] if html is not None else None, width_px=body.width())
            doc.setPageSize(QSizeF(body.width(), body.height()))
            if missing is not None:
                missing.append(missing_characters(doc))  # the layout is done anyway: ~5 ms a sheet
            notes_page, notes_top = _notes_space(doc, body.height(), doc.pageCount())
            # Nothing follows the last block: a page after it would be blank.
            count = notes_page + 1
            for page in range(count):
                if pages:
                    device.newPage()
                pages += 1
                painter.save()
                painter.translate(body.left(), body.top() - page * body.height())
                clip = QRectF(0, page * body.height(), body.width(), body.height())
                doc.drawContents(painter, clip)
                painter.restore()
                if page == notes_page:
                    _ruled_notes(painter, body, notes_top, heading)
                _footer(painter, sheet, page, count, body, footer_y, small)
            if progress is not None:
                progress(index + 1, len(sheets))
    finally:
        painter.end()
    return pages


def _notes_space(doc: QTextDocument, page_height: float, pages: int) -> tuple[int, float]:
    """(page, top within the body) for the ruled notes: under the content of the last page.

    The lines only fill what is left: they never start a page of their own (a page holding
    nothing but lines costs paper and splits a day's pile), so a sheet that fits on one page
    prints on one page. A full last page simply gets no lines.
    """
    layout = doc.documentLayout()
    block = doc.lastBlock()
    rect = layout.blockBoundingRect(block)
    # After a closing table QTextDocument keeps an empty block: it takes no ink, so no room.
    bottom = rect.top() if not block.text().strip() else rect.bottom()
    last = max(0, min(pages - 1, int(bottom // page_height)))
    return last, bottom - last * page_height + _px(5)


def _ruled_notes(painter: QPainter, body: QRectF, top: float, font: QFont) -> None:
    """The heading and the lines for handwriting, from ``top`` down to the footer.

    Nothing at all when not even the heading and one line fit under the content.
    """
    painter.save()
    painter.setFont(font)
    step = _px(RULE_MM)
    y = body.top() + top + painter.fontMetrics().ascent()
    bottom = body.bottom() - 2
    if y + step > bottom:
        painter.restore()
        return
    painter.setPen(QColor("#12355b"))
    painter.drawText(QPointF(body.left(), y), "Notes")
    painter.setPen(QColor("#9aa5b1"))
    y += step
    while y <= bottom:
        painter.drawLine(QPointF(body.left(), y), QPointF(body.right(), y))
        y += step
    painter.restore()


def _footer(
    painter: QPainter, sheet: BriefingSheet, page: int, count: int, body: QRectF, y: float, font: QFont
) -> None:
    painter.save()
    painter.setFont(font)
    painter.setPen(QColor("#6b6b6b"))
    painter.drawLine(QPointF(body.left(), y - 11), QPointF(body.right(), y - 11))
    title = sheet.title
    if sheet.visit is not None:
        title = f"{_clock(sheet.visit.starts_at)} {title}"
    right = f"{sheet.reference} · page {page + 1} of {count}"
    metrics = painter.fontMetrics()
    width = metrics.horizontalAdvance(right)
    left = f"Rapport briefing · {title}" + (" (continued)" if page else "")
    # A very long name is cut with an ellipsis rather than running into the page number.
    left = metrics.elidedText(left, Qt.TextElideMode.ElideMiddle, int(body.width() - width - 24))
    painter.drawText(QPointF(body.left(), y), left)
    painter.drawText(QPointF(body.right() - width, y), right)
    painter.restore()


def write_pdf(
    sheets: Sequence[BriefingSheet],
    path: Path | str,
    *,
    paper: str | None = None,
    html: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    missing: list[set[str]] | None = None,
) -> int:
    """Render ``sheets`` to a PDF file; returns the page count. Safe in a worker thread."""
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    writer = QPdfWriter(str(tmp))
    writer.setResolution(300)
    writer.setCreator("Rapport")
    writer.setTitle(f"Briefing: {sheets[0].title}" if len(sheets) == 1 else f"Briefings ({len(sheets)})")
    prepare_device(writer, paper)
    try:
        pages = render_sheets(sheets, writer, html=html, progress=progress, cancel=cancel, missing=missing)
        del writer  # flushes and closes the file
        _check_written(tmp, target)
        tmp.replace(target)  # a cancelled or failed run never leaves half a PDF under the real name
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return pages


def _check_written(tmp: Path, target: Path) -> None:
    """QPdfWriter reports no write errors: a full disk leaves a cut-off file that looks fine.
    A whole PDF ends with ``%%EOF``; it is also forced to the disk before it takes the name."""
    with tmp.open("rb+") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - 1024))
        whole = size > 0 and b"%%EOF" in f.read()
        if whole:
            os.fsync(f.fileno())
    if not whole:
        raise RapportError(
            f"The PDF could not be written completely to {target.parent} (is the disk full?). "
            f"Nothing was saved as {target.name}; free some space and try again."
        )
