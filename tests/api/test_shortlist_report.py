"""Printable short-list report: HTML content/escaping/languages and a rendered PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pypdfium2 as pdfium
import pytest

from services.api.deliberation.report import (
    ReportRow,
    ReportTrial,
    Shortlist,
    labels,
    render_html,
    render_pdf,
)

TRIALS = [
    ReportTrial("Épreuve écrite", "written", Decimal("40"), Decimal("20"), True),
    ReportTrial("Oral", "oral", Decimal("35"), Decimal("20"), False),
    ReportTrial("Mise en situation", "practical", Decimal("25"), Decimal("50"), False),
]
FIRST = ["Élise Dupont", "Jürgen Weiß", "Anaïs Brontë", "<script>alert(1)</script>"]


def _name(index: int) -> str:
    return FIRST[index] if index < len(FIRST) else f"Candidat Numéro {index + 1:02d}"


def _shortlist(count: int = 25) -> Shortlist:
    rows = []
    start = datetime(2026, 2, 1, 23, 30, tzinfo=UTC)
    for i in range(count):
        global_score = Decimal("85.25") - Decimal(i) * Decimal("1.5")
        scores: list[Decimal | None] = [Decimal("17.5") - i % 5, Decimal("15"), Decimal("42")]
        if i == 2:
            scores[1] = None
        rows.append(ReportRow(i + 1, _name(i), start + timedelta(days=i), global_score, scores))
    return Shortlist(
        job_title="Attaché·e juriste — Marchés publics",
        job_reference="REC-2026-042",
        department="Service juridique",
        year=2026,
        campaign="Printemps",
        generated_at=datetime(2026, 3, 12, 13, 5, tzinfo=UTC),
        timezone="Europe/Brussels",
        trials=TRIALS,
        rows=list(reversed(rows)),  # the report orders by rank itself
    )


def test_html_content_order_and_escaping() -> None:
    page = render_html(_shortlist())
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in page
    assert "Short-list pour la délibération" in page
    assert "Attaché·e juriste — Marchés publics" in page
    assert "REC-2026-042" in page and "Service juridique" in page and "Printemps" in page
    assert "12 mars 2026" in page and "14:05" in page  # Brussels time, not UTC
    assert "2 févr. 2026" in page  # 23:30 UTC on 1 February is 2 February in Brussels
    positions = [page.index(f">{_name(i)}<") for i in range(len(FIRST) - 1)]
    positions += [page.index(f">{_name(i)}<") for i in range(len(FIRST), 25)]
    assert positions == sorted(positions)
    # Numbers as French writes them: a decimal comma.
    assert "85,25" in page and "83,75" in page and "49,25" in page
    assert "17,5 / 20" in page and "42 / 50" in page
    assert "85.25" not in page and "17.5" not in page
    english = render_html(_shortlist(), "en")
    assert "85.25" in english and "17.5 / 20" in english
    assert ">–<" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Éliminatoire" in page and "Oui" in page and "Non" in page
    assert "Confidentiel — pour le jury" in page
    assert "http" not in page  # no remote resources
    assert "@page" in page and "A4" in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", ["Shortlist voor de deliberatie", "Kandidaat", "Vertrouwelijk — voor de jury"]),
        ("de", ["Auswahlliste für die Beratung", "Bewerber", "12.03.2026", "mündlich"]),
        ("en", ["Short-list for the deliberation", "Candidate", "Mar 12, 2026", "Rank"]),
    ],
)
def test_html_languages(language: str, expected: list[str]) -> None:
    page = render_html(_shortlist(), language)
    assert f'<html lang="{language}">' in page
    for text in expected:
        assert text in page
    assert "Short-list pour la délibération" not in page


def test_labels_complete_and_bad_language() -> None:
    # Each word's translation comes from the catalogue (tests/api/test_page_catalogues.py
    # checks that each is complete): none is mislabelled by a position any more.
    assert labels("fr")["global"] == "Score global"
    assert labels("nl")["retained"] == "Weerhouden"
    assert labels("de")["eliminatory"] == "Ausschließend"
    assert labels("en")["applied"] == "Application date"
    assert '<html lang="nl">' in render_html(_shortlist(3), "nl-BE")
    with pytest.raises(ValueError):
        render_html(_shortlist(3), "xx")


def _pages(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def test_pdf_renders_with_text() -> None:
    data = render_pdf(_shortlist())
    assert data.startswith(b"%PDF")
    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        width, height = page.get_size()
        assert width < height  # portrait A4 for three trials
        image = page.render(scale=100 / 72).to_pil().convert("L")
        page.close()
    finally:
        document.close()
    assert abs(image.width - 827) <= 2 and abs(image.height - 1169) <= 2
    lower = image.crop((0, image.height // 3, image.width, image.height * 9 // 10))
    dark = sum(lower.histogram()[:100])
    assert dark > 2000  # table borders and text
    text = _pages(data)[0]
    assert "Short-list pour la délibération" in text
    assert "REC-2026-042" in text
    assert "Attaché" in text and "Marchés publics" in text
    assert "Élise Dupont" in text and "85,25" in text
    assert "Jürgen Weiß" in text and "Anaïs Brontë" in text
    assert "<script>alert(1)</script>" in text
    assert "Confidentiel — pour le jury" in text  # the dash as written


def test_pdf_paginates_with_repeated_header() -> None:
    pages = _pages(render_pdf(_shortlist(40)))
    assert len(pages) >= 2
    total = len(pages)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} / {total}" in text
        assert "Rang" in text and "Score global" in text  # column headings on every page
        assert "Confidentiel — pour le jury" in text  # the dash as written
    assert "Candidat Numéro 40" in pages[-1]
    assert "Candidat Numéro 40" not in pages[0]


def test_pdf_landscape_for_wide_tables_and_other_language() -> None:
    wide = [
        ReportTrial(f"Épreuve {i}", "interview", Decimal(1), Decimal(10), False) for i in range(6)
    ]
    rows = [
        ReportRow(1, "Jürgen Weiß", datetime(2026, 1, 5, tzinfo=UTC), None, [None] * 6),
    ]
    base = _shortlist(1)
    shortlist = Shortlist(
        base.job_title, "R-1", None, 2026, None, base.generated_at, "UTC", wide, rows
    )
    data = render_pdf(shortlist, "de")
    document = pdfium.PdfDocument(data)
    try:
        width, height = document[0].get_size()
    finally:
        document.close()
    assert width > height
    text = _pages(data)[0]
    assert "Gesamtpunktzahl" in text and "Jürgen Weiß" in text and "Seite 1 / 1" in text


def test_pdf_prints_every_european_name_as_written() -> None:
    base = _shortlist(1)
    rows = [
        ReportRow(1, "Łucja Wiśniewska-Żak", datetime(2026, 1, 5, tzinfo=UTC), None, [None] * 3),
        ReportRow(2, "Ödön Kőrösi", datetime(2026, 1, 6, tzinfo=UTC), None, [None] * 3),
        ReportRow(3, "Ἀλέξανδρος 李", datetime(2026, 1, 7, tzinfo=UTC), None, [None] * 3),
    ]
    shortlist = Shortlist(
        "Juriste – droit public",
        "POP–2026–01",
        None,
        2026,
        None,
        base.generated_at,
        "UTC",
        base.trials,
        rows,
    )
    text = _pages(render_pdf(shortlist))[0]
    assert "Łucja Wiśniewska-Żak" in text and "Ödön Kőrösi" in text
    assert "POP–2026–01" in text and "Juriste – droit public" in text
    assert "?" in text, "a script the font lacks prints as its base letters or ?, not as nothing"
