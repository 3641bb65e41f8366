"""Every text of the candidate pages is translated in French, Dutch and German."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

PAGES = Path(__file__).resolve().parents[2] / "services" / "api" / "candidate_pages"
METHODS = [("templates/**.j2", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.j2": {"extensions": "jinja2.ext.i18n"}}


def _source_messages() -> set[str]:
    found = extract_from_dir(str(PAGES), METHODS, options_map=OPTIONS)
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


@pytest.mark.parametrize("language", ["fr", "nl", "de"])
def test_catalogue_is_complete(language: str) -> None:
    with (PAGES / "locale" / language / "LC_MESSAGES" / "pages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    translated = {m.id: m.string for m in catalog if m.id and not m.fuzzy}
    source = _source_messages()
    assert len(source) > 20
    missing = sorted(m for m in source if not translated.get(m))
    assert missing == []
    unused = sorted(set(translated) - source)
    assert unused == [], "catalogue entries no page uses"
