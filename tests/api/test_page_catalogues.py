"""Every text of the candidate pages and of the short-list report is translated in French, Dutch
and German (the emails' catalogues: tests/shared/test_emails.py)."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from shared.i18n import FALLBACK, LANGUAGES

API = Path(__file__).resolve().parents[2] / "services" / "api"
METHODS = [("templates/**.j2", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
# Each catalogue: where its texts are, and its gettext domain.
CATALOGUES = [(API / "candidate_pages", "pages"), (API / "deliberation", "report")]


def _source_messages(where: Path) -> set[str]:
    found = extract_from_dir(str(where), METHODS, options_map=OPTIONS)
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != FALLBACK])
@pytest.mark.parametrize(("where", "domain"), CATALOGUES, ids=[d for _, d in CATALOGUES])
def test_catalogue_is_complete(where: Path, domain: str, language: str) -> None:
    with (where / "locale" / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    translated = {m.id: m.string for m in catalog if m.id and not m.fuzzy}
    source = _source_messages(where)
    assert len(source) > 20
    missing = sorted(m for m in source if not translated.get(m))
    assert missing == []
    unused = sorted(set(translated) - source)
    assert unused == [], "catalogue entries no page uses"
