"""Printable short-list report for a recruitment board: HTML and PDF, data in, bytes out."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from fontTools.ttLib import TTFont
from fpdf import FPDF, FontFace
from jinja2 import Environment, StrictUndefined

from shared.i18n import LANGUAGES, translations

MISSING = "–"
LANDSCAPE_ABOVE_TRIALS = 4


@dataclass(frozen=True)
class ReportTrial:
    title: str
    kind: str  # written / oral / practical / interview
    weight: Decimal
    max_score: Decimal
    eliminatory: bool


@dataclass(frozen=True)
class ReportRow:
    rank: int
    candidate_name: str
    applied_at: datetime  # aware
    global_score: Decimal | None  # 0..100, two decimals
    scores: list[Decimal | None]  # one per trial, in ReportTrial order (None: not graded)
    decision: str | None = None  # the board's: retained, reserve or not_retained
    reserve_rank: int | None = None


@dataclass(frozen=True)
class Shortlist:
    job_title: str
    job_reference: str
    department: str | None
    year: int
    campaign: str | None
    generated_at: datetime  # aware
    timezone: str  # IANA, for displaying dates
    trials: list[ReportTrial]
    rows: list[ReportRow]
    decided_on: date | None = None  # once the board decided: the ranking it decided on
    decision_reference: str | None = None


_KINDS = ("written", "oral", "practical", "interview")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def _language(language: str) -> str:
    """The report's language: "nl-BE" is Dutch; ValueError for one candidates cannot have."""
    code = language.replace("-", "_").split("_", 1)[0].lower()
    if code not in LANGUAGES:
        raise ValueError(f"unsupported report language: {language!r}")
    return code


def labels(language: str) -> dict[str, str]:
    """The report's words in `language` (gettext, domain "report": `make messages` extracts
    them, English is the source); "page" takes {n} and {total}, "reserve" takes {n}."""
    _ = translations(LOCALE_DIR, "report", language).gettext
    return {
        "title": _("Short-list for the deliberation"),
        "job": _("Job"),
        "reference": _("Reference"),
        "department": _("Department"),
        "year": _("Year"),
        "campaign": _("Campaign"),
        "generated": _("Generated on"),
        "trials": _("Trials"),
        "trial": _("Trial"),
        "kind": _("Kind"),
        "weight": _("Weight"),
        "max_score": _("Maximum score"),
        "eliminatory": _("Eliminatory"),
        "yes": _("Yes"),
        "no": _("No"),
        "ranking": _("Ranking"),
        "rank": _("Rank"),
        "candidate": _("Candidate"),
        "applied": _("Application date"),
        "global": _("Global score"),
        "confidential": _("Confidential — for the board"),
        "page": _("Page {n} / {total}"),
        "written": _("written"),
        "oral": _("oral"),
        "practical": _("practical"),
        "interview": _("interview"),
        "board": _("Board's decision"),
        "decision": _("Decision"),
        "retained": _("Retained"),
        "reserve": _("Reserve no. {n}"),
        "not_retained": _("Not retained"),
    }


def _number(value: Decimal, lang: str) -> str:
    """A score, weight or maximum as the language writes it: "12,5" in French, "12.5" in
    English; no trailing zeros."""
    return format_decimal(value, format="#,##0.##", locale=lang)


def _global(value: Decimal | None, lang: str) -> str:
    """The global score, always with its two decimals: "83,33", "83.33"."""
    return MISSING if value is None else format_decimal(value, format="0.00", locale=lang)


def _score(value: Decimal | None, maximum: Decimal, lang: str) -> str:
    return MISSING if value is None else f"{_number(value, lang)} / {_number(maximum, lang)}"


def _context(shortlist: Shortlist, language: str) -> dict[str, Any]:
    """Everything both renderers display, already formatted as text."""
    lang = _language(language)
    words = labels(lang)
    zone = ZoneInfo(shortlist.timezone)
    generated = format_datetime(shortlist.generated_at, "medium", tzinfo=zone, locale=lang)
    info = [
        (words["job"], shortlist.job_title),
        (words["reference"], shortlist.job_reference),
        (words["department"], shortlist.department or MISSING),
        (words["year"], str(shortlist.year)),
        (words["campaign"], shortlist.campaign or MISSING),
        (words["generated"], f"{generated} ({shortlist.timezone})"),
    ]
    if shortlist.decided_on is not None:
        decided = format_date(shortlist.decided_on, "long", locale=lang)
        reference = f" ({shortlist.decision_reference})" if shortlist.decision_reference else ""
        info.append((words["board"], decided + reference))
    trials = [
        {
            "title": trial.title,
            "kind": words[trial.kind] if trial.kind in _KINDS else trial.kind,
            "weight": _number(trial.weight, lang),
            "max_score": _number(trial.max_score, lang),
            "eliminatory": words["yes"] if trial.eliminatory else words["no"],
        }
        for trial in shortlist.trials
    ]
    rows = []
    for row in sorted(shortlist.rows, key=lambda r: r.rank):
        if len(row.scores) != len(shortlist.trials):
            raise ValueError(f"row of rank {row.rank} has {len(row.scores)} scores")
        applied = row.applied_at.astimezone(zone).date()
        rows.append(
            {
                "rank": str(row.rank),
                "candidate": row.candidate_name,
                "applied": format_date(applied, "medium", locale=lang),
                "scores": [
                    _score(score, trial.max_score, lang)
                    for score, trial in zip(row.scores, shortlist.trials, strict=True)
                ],
                "global": _global(row.global_score, lang),
                "decision": _decision(row, words),
            }
        )
    return {
        "lang": lang,
        "l": words,
        "info": info,
        "trials": trials,
        "rows": rows,
        "decided": shortlist.decided_on is not None,
    }


def _decision(row: ReportRow, labels: dict[str, str]) -> str:
    if row.decision == "reserve":
        return labels["reserve"].format(n=row.reserve_rank or "")
    return labels[row.decision] if row.decision in ("retained", "not_retained") else MISSING


_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<title>{{ l.title }} — {{ info[0][1] }}</title>
<style>
@page { size: A4 {{ orientation }}; margin: 15mm 12mm 18mm 12mm; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 10pt; color: #000; }
h1 { font-size: 16pt; margin: 0 0 4mm 0; }
h2 { font-size: 12pt; margin: 6mm 0 2mm 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #444; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
th { background: #e6e6e6; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
td.num, th.num { text-align: right; white-space: nowrap; }
table.info { width: auto; }
table.info th { background: none; border: none; padding: 0.5mm 4mm 0.5mm 0; }
table.info td { border: none; padding: 0.5mm 0; }
footer { margin-top: 6mm; font-size: 8pt; font-style: italic; }
</style>
</head>
<body>
<h1>{{ l.title }}</h1>
<table class="info">
{% for label, value in info %}<tr><th scope="row">{{ label }}</th><td>{{ value }}</td></tr>
{% endfor %}</table>
<h2>{{ l.trials }}</h2>
<table class="trials">
<thead><tr><th>{{ l.trial }}</th><th>{{ l.kind }}</th><th class="num">{{ l.weight }}</th>
<th class="num">{{ l.max_score }}</th><th>{{ l.eliminatory }}</th></tr></thead>
<tbody>
{% for t in trials %}<tr><td>{{ t.title }}</td><td>{{ t.kind }}</td>\
<td class="num">{{ t.weight }}</td><td class="num">{{ t.max_score }}</td>\
<td>{{ t.eliminatory }}</td></tr>
{% endfor %}</tbody>
</table>
<h2>{{ l.ranking }}</h2>
<table class="ranking">
<thead><tr><th class="num">{{ l.rank }}</th><th>{{ l.candidate }}</th><th>{{ l.applied }}</th>
{% for t in trials %}<th class="num">{{ t.title }}</th>{% endfor %}\
<th class="num">{{ l.global }}</th>{% if decided %}<th>{{ l.decision }}</th>{% endif %}</tr></thead>
<tbody>
{% for r in rows %}<tr><td class="num">{{ r.rank }}</td><td>{{ r.candidate }}</td>\
<td>{{ r.applied }}</td>{% for s in r.scores %}<td class="num">{{ s }}</td>{% endfor %}\
<td class="num">{{ r.global }}</td>{% if decided %}<td>{{ r.decision }}</td>{% endif %}</tr>
{% endfor %}</tbody>
</table>
<footer>{{ l.confidential }}</footer>
</body>
</html>
"""

_ENV = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
_HTML = _ENV.from_string(_TEMPLATE)


def render_html(shortlist: Shortlist, language: str = "fr") -> str:
    """Render the short-list as a standalone, printable, escaped HTML page."""
    context = _context(shortlist, language)
    wide = len(shortlist.trials) > LANDSCAPE_ABOVE_TRIALS
    return _HTML.render(orientation="landscape" if wide else "portrait", **context)


# A Unicode font embedded in every PDF (SIL Open Font License, from the PyPI package
# font-source-sans-pro): Latin letters of every European language, dashes and quotes print as
# written ("Łódź", "POP–2026–01").
FONT = "sourcesans"
_FONT_FILES = {
    "": "SourceSansPro-Regular.ttf",
    "B": "SourceSansPro-Bold.ttf",
    "I": "SourceSansPro-It.ttf",
}


def _font_path(style: str) -> str:
    return str(resources.files("font_source_sans_pro") / "files" / _FONT_FILES[style])


@lru_cache
def _covered() -> frozenset[int]:
    """The characters the embedded font can draw."""
    return frozenset(TTFont(_font_path("")).getBestCmap())


def _printable(text: str) -> str:
    """The text as the font can draw it: a character it lacks (a script other than Latin, say)
    becomes its base letter if it has one, else "?"."""
    covered = _covered()
    out = []
    for char in text:
        if ord(char) in covered:
            out.append(char)
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            kept = "".join(
                c for c in decomposed if ord(c) in covered and not unicodedata.combining(c)
            )
            out.append(kept or "?")
    return "".join(out)


class _ReportPDF(FPDF):
    def __init__(self, orientation: str, header_text: str, footer_text: str, page: str) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        for style in _FONT_FILES:
            self.add_font(FONT, style, _font_path(style))
        self._header_text = header_text
        self._footer_text = footer_text
        self._page_label = page

    def header(self) -> None:
        self.set_font(FONT, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, self._header_text, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "I", 8)
        self.set_text_color(90)
        self.cell(0, 5, self._footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self._page_label.format(n=self.page_no(), total="{nb}"), align="R")
        self.set_text_color(0)


def render_pdf(shortlist: Shortlist, language: str = "fr") -> bytes:
    """Render the short-list as an A4 PDF (landscape above four trials) with page numbers."""
    ctx = _context(shortlist, language)
    labels: dict[str, str] = {k: _printable(v) for k, v in ctx["l"].items()}
    wide = len(shortlist.trials) > LANDSCAPE_ABOVE_TRIALS
    pdf = _ReportPDF(
        "L" if wide else "P",
        header_text=_printable(
            f"{ctx['l']['title']} — {shortlist.job_title} ({shortlist.job_reference})"
        ),
        footer_text=labels["confidential"],
        page=labels["page"],
    )
    pdf.set_title(f"{ctx['l']['title']} — {shortlist.job_title}")
    pdf.set_creation_date(shortlist.generated_at)
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.set_font(FONT, "B", 15)
    pdf.cell(0, 9, labels["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    for label, value in ctx["info"]:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(45, 5.5, _printable(label))
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(0, 5.5, _printable(value), new_x="LMARGIN", new_y="NEXT")

    heading = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))

    def section(title: str) -> None:
        pdf.ln(4)
        pdf.set_font(FONT, "B", 12)
        pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)

    section(labels["trials"])
    with pdf.table(
        col_widths=(50, 20, 14, 16, 16),
        headings_style=heading,
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"),
        line_height=5,
        padding=1,
    ) as table:
        names = ("trial", "kind", "weight", "max_score", "eliminatory")
        table.row([labels[name] for name in names])
        for t in ctx["trials"]:
            keys = ("title", "kind", "weight", "max_score", "eliminatory")
            table.row([_printable(t[key]) for key in keys])

    section(labels["ranking"])
    trial_count = len(ctx["trials"])
    decided = ctx["decided"]
    widths = (12, 44, 26, *([22] * trial_count), 28, *((30,) if decided else ()))
    aligns = ("RIGHT", "LEFT", "LEFT", *(["RIGHT"] * trial_count), "RIGHT", "LEFT")[: len(widths)]
    with pdf.table(
        col_widths=widths,
        headings_style=heading,
        text_align=aligns,
        line_height=5,
        padding=1,
        repeat_headings=1,
    ) as table:
        titles = [labels["rank"], labels["candidate"], labels["applied"]]
        last = [labels["global"], *((labels["decision"],) if decided else ())]
        table.row([*titles, *(_printable(t["title"]) for t in ctx["trials"]), *last])
        for r in ctx["rows"]:
            cells = [r["rank"], r["candidate"], r["applied"], *r["scores"], r["global"]]
            cells += [r["decision"]] if decided else []
            table.row([_printable(cell) for cell in cells])
    return bytes(pdf.output())
