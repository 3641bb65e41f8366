"""Gettext catalogues (.po, read with Babel) for the languages candidates speak."""

from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("fr", "nl", "de", "en")
FALLBACK = "en"


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


def language_or_fallback(language: str | None) -> str:
    """`language` if candidates can have it, else English."""
    return language if language in LANGUAGES else FALLBACK
