"""Candidate pages rendered in the candidate's language (gettext catalogues, domain "pages")."""

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.core import negotiate_locale
from jinja2 import Environment, FileSystemLoader, select_autoescape

from shared.i18n import FALLBACK, LANGUAGES, language_or_fallback, translations
from shared.settings import get_settings

HERE = Path(__file__).parent
DOMAIN = "pages"


@dataclass
class Page:
    """A page to render: template, words for it, HTTP status and language."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    language: str = FALLBACK


def gettext(language: str):  # type: ignore[no-untyped-def]
    """The gettext function of the pages' catalogue in `language`."""
    return translations(HERE / "locale", DOMAIN, language_or_fallback(language)).gettext


@lru_cache
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(enabled_extensions=("j2",), default=True),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        translations(HERE / "locale", DOMAIN, language), newstyle=True
    )
    return env


# Every page's footer links to the accessibility statement (/accessibility), in the page's
# language: relative links, which work behind a proxy's path prefix too (from /c/{token} it is
# one level up; the statement's own link points at itself).
STATEMENT = "accessibility"


def render(page: Page) -> str:
    """The page's HTML: its words, in a frame naming the administration."""
    language = language_or_fallback(page.language)
    return (
        _environment(language)
        .get_template(page.template)
        .render(
            language=language,
            administration=get_settings().administration,
            statement_link=f"{'' if page.template == f'{STATEMENT}.html.j2' else '../'}"
            f"{STATEMENT}?lang={language}",
            **page.context,
        )
    )


def browser_language(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header (links we cannot read)."""
    preferred = [
        part.split(";")[0].strip().replace("-", "_") for part in (accept_language or "").split(",")
    ]
    return negotiate_locale([p for p in preferred if p], list(LANGUAGES)) or FALLBACK
