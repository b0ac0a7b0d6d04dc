"""PDF rendering of a stored report (spec §19): stored Markdown → HTML (markdown-it) → fpdf2.

fpdf2 ships no TrueType font and its core fonts only encode latin-1. When a DejaVu TrueType font is
installed (Debian/Ubuntu ``fonts-dejavu-core``, Fedora, Alpine, Homebrew paths) it is embedded, so
any Unicode title or indicator prints exactly. Without it the text is folded to latin-1
deterministically (:func:`to_latin1`): typographic punctuation gets its ASCII look-alike and any
other character becomes ``[U+XXXX]``, so nothing is dropped silently. Indicators are ASCII in
practice (IPs, URLs, hashes, punycode domains) and survive both paths unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace, TextStyle
from markdown_it import MarkdownIt

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/TTF"),
    Path("/opt/homebrew/share/fonts"),
)
_FACES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf",
          "BI": "DejaVuSans-BoldOblique.ttf"}  # fmt: skip
_MONO = "DejaVuSansMono.ttf"
MAX_CELL_CHARS = 600
_ASCII_LOOKALIKES = str.maketrans(
    {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "--", "\u2015": "--",
     "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201c": '"', "\u201d": '"', "\u201e": '"',
     "\u2022": "*", "\u2026": "...", "\u2192": "->", "\u2190": "<-", "\u00a0": " ", "\u202f": " ",
     "\u2212": "-"}
)  # fmt: skip


@dataclass(frozen=True)
class UnicodeFont:
    faces: dict[str, Path]
    mono: Path


@cache
def find_unicode_font() -> UnicodeFont | None:
    """The first directory holding the complete DejaVu set, or None (then text is folded to latin-1)."""
    for folder in FONT_DIRS:
        faces = {style: folder / name for style, name in _FACES.items()}
        if all(p.is_file() for p in faces.values()) and (folder / _MONO).is_file():
            return UnicodeFont(faces=faces, mono=folder / _MONO)
    return None


def to_latin1(text: str) -> str:
    """Deterministic latin-1 folding for the core PDF fonts (see module docstring)."""
    out = []
    for ch in text.translate(_ASCII_LOOKALIKES):
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) < 256)
        out.append(base or f"[U+{ord(ch):04X}]")
    return "".join(out)


@cache
def _markdown() -> MarkdownIt:
    # html=False: raw HTML in stored text (e.g. an alert title) is shown as text, never interpreted.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _styles(body: str, mono: str) -> dict[str, FontFace | TextStyle]:
    """Print-first look: black headings, monospaced indicators."""
    return {
        "h1": TextStyle(font_family=body, font_style="B", font_size_pt=17, color="#000000", b_margin=2),
        "h2": TextStyle(font_family=body, font_style="B", font_size_pt=13, color="#000000", t_margin=5),
        "code": FontFace(family=mono),
        "pre": TextStyle(font_family=mono),
    }


_CELL = re.compile(r"(?<!\\)\|")


def clip_table_cells(markdown: str, limit: int = MAX_CELL_CHARS) -> str:
    """Clip every Markdown table cell to ``limit`` characters.

    fpdf lays a table row out on one page and raises ("row … too high") when a cell holds more text
    than a page: an encoded command line in a case description or comment did that. The full value
    stays in the Markdown and HTML reports; the PDF says it was clipped.
    """
    out = []
    for line in markdown.splitlines():
        if line.startswith("|") and len(line) > limit:
            cells = _CELL.split(line)
            line = "|".join(_clip_cell(c, limit) for c in cells)
        out.append(line)
    return "\n".join(out)


def _clip_cell(cell: str, limit: int) -> str:
    if len(cell) <= limit:
        return cell
    return cell[:limit].rstrip("\\") + " … [clipped] "


def render_pdf(markdown: str, *, title: str, font: UnicodeFont | None = None) -> bytes:
    """A PDF of ``markdown``; ``font`` defaults to the installed DejaVu set, if any."""
    markdown = clip_table_cells(markdown)
    font = font if font is not None else find_unicode_font()
    pdf = FPDF(format="A4")
    pdf.set_margins(16, 16, 16)
    if font is None:
        body, mono = "helvetica", "courier"
        markdown, title = to_latin1(markdown), to_latin1(title)
    else:
        body, mono = "dejavu", "dejavumono"
        for style, path in font.faces.items():
            pdf.add_font(body, style, str(path))
        pdf.add_font(mono, "", str(font.mono))
    pdf.set_title(title)
    pdf.set_creator("AuroraSOC")
    pdf.add_page()
    pdf.set_font(body, size=10)
    pdf.write_html(
        _markdown().render(markdown),
        tag_styles=_styles(body, mono),
        table_line_separators=True,
        warn_on_tags_not_matching=False,
    )
    return bytes(pdf.output())
