"""Gettext catalogues (.po, read with Babel) for the languages candidates speak."""

from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Literal, get_args

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

# The languages candidates may speak: one type, the list derived from it (the API's enums,
# the catalogues' completeness tests and the report all use these).
Language = Literal["fr", "nl", "de", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
FALLBACK: Language = "en"


@lru_cache
def translations(locale_dir: Path, domain: str, language: str) -> NullTranslations:
    """The catalogue of `domain` for `language`, compiled in memory (no .mo files to ship).

    English is the source language: it and any language without a catalogue get the source text.
    """
    po = locale_dir / language / "LC_MESSAGES" / f"{domain}.po"
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=domain)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


def language_or_fallback(language: str | None) -> Language:
    """`language` if candidates can have it, else English."""
    return next((known for known in LANGUAGES if known == language), FALLBACK)
