"""Render an email kind in a candidate's language: (subject, plain text, HTML).

The templates are written once, in English, with jinja2's i18n extension. The French, Dutch
and German texts live in gettext catalogues (`locale/<lang>/LC_MESSAGES/messages.po`), read
with Babel and compiled in memory, so no binary `.mo` file is kept in the repository. Dates and
times are formatted by Babel in the candidate's locale and in the time zone of the context.
"""

import hashlib
import json
import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format, get_timezone_name
from babel.numbers import format_decimal
from babel.support import NullTranslations
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from shared import i18n
from shared.emails.kinds import KINDS
from shared.i18n import LANGUAGES, language_or_fallback

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
__all__ = ["LANGUAGES", "RenderError", "compile_all", "language_of", "render"]
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_PARAGRAPH_STYLE = "margin:0 0 16px;"


class RenderError(ValueError):
    """The kind is unknown or its context lacks a key or holds an unusable value."""


def language_of(language: str | None) -> str:
    """The language an email is written in: the candidate's if we have it, else English."""
    return language_or_fallback((language or "").strip().lower())


def translations(language: str) -> NullTranslations:
    """The language's email catalogue, compiled from its .po file in memory (once per process)."""
    return i18n.translations(LOCALE_DIR, DOMAIN, language)


def _instant(value: Any, context: Context) -> datetime:
    """An ISO 8601 string (or datetime) in the time zone named by the context's `timezone`."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    zone = ZoneInfo(str(context.get("timezone") or "UTC"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone)


_WRITTEN_INSTANTS: dict[tuple[str, str, str, bool], str] = {}


def written_datetime(moment: datetime, timezone: str, language: str, *, zone: bool = True) -> str:
    """An instant as the emails write it, in `timezone` and the candidate's language: the
    day in full and the time without seconds ("dimanche 28 mars 2027, 10:00"), with the zone's
    name if `zone`. The candidate pages write times the same way."""
    return _datetime_text(moment.astimezone(ZoneInfo(timezone)), language_of(language), zone)


def _datetime_text(moment: datetime, language: str, zone: bool) -> str:
    """Babel is slow, and a bulk send writes the same few instants thousands of times: they are
    kept by offset and zone name too (equal instants in two zones compare equal)."""
    key = (moment.isoformat(), str(moment.tzinfo), language, zone)
    text = _WRITTEN_INSTANTS.get(key)
    if text is not None:
        return text
    text = (
        str(get_datetime_format("full", locale=language))
        .replace("'", "")
        .replace("{0}", format_time(moment, "short", locale=language))
        .replace("{1}", format_date(moment, "full", locale=language))
    )
    if zone:
        assert moment.tzinfo is not None
        name = get_timezone_name(moment, "long", locale=language)
        text = f"{text} ({name})"
    if len(_WRITTEN_INSTANTS) < 10_000:
        _WRITTEN_INSTANTS[key] = text
    return text


def _filters(language: str) -> dict[str, Any]:
    @pass_context
    def datetime_filter(context: Context, value: Any, zone: bool = False) -> str:
        """'dimanche 29 mars 2026, 10:00', with the zone's name in brackets if asked."""
        return _datetime_text(_instant(value, context), language, zone)

    @pass_context
    def date_filter(context: Context, value: Any) -> str:
        """A day ('2026-04-15', or the day of a datetime in the context's zone), written out."""
        if isinstance(value, datetime) or (isinstance(value, str) and len(value) > 10):
            day = _instant(value, context).date()
        else:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        return format_date(day, "full", locale=language)

    def number_filter(value: Any) -> str:
        return format_decimal(value, locale=language)

    return {"datetime": datetime_filter, "date": date_filter, "number": number_filter}


def paragraphs(value: Any) -> Markup:
    """Plain text typed by HR as escaped HTML paragraphs, keeping its line breaks."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", str(value).replace("\r\n", "\n"))]
    return Markup("").join(
        Markup('<p style="{}">{}</p>\n').format(
            _PARAGRAPH_STYLE, Markup("<br>\n").join(escape(line) for line in block.split("\n"))
        )
        for block in blocks
        if block
    )


def strong(value: Any) -> Markup:
    """A value to stress in an HTML sentence, escaped."""
    return Markup("<strong>{}</strong>").format(value)


@lru_cache
def environment(language: str) -> Environment:
    """The templates with the language's catalogue and formatters installed."""
    env = Environment(
        loader=PackageLoader("shared.emails", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,  # the templates ship with the code: no file check per email
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(_filters(language))
    env.filters["paragraphs"] = paragraphs
    env.filters["strong"] = strong
    return env


def compile_all() -> None:
    """Compile every template in every language now: a worker does it before it forks its
    processes, which then share them instead of each compiling on its first emails."""
    for language in LANGUAGES:
        env = environment(language)
        for kind in KINDS:
            for part in ("subject", "txt", "html"):
                env.get_template(f"{kind}.{part}.j2")


def _context(kind: str, language: str, context: dict[str, Any]) -> dict[str, Any]:
    spec = KINDS.get(kind)
    if spec is None:
        raise RenderError(f"unknown email kind {kind!r}")
    missing = [key for key in spec.required if context.get(key) in (None, "")]
    if missing:
        raise RenderError(f"{kind}: missing {', '.join(missing)}")
    links = [key for key in spec.keys if key.endswith("link") and context.get(key)]
    for key in links:
        if urlsplit(str(context[key])).scheme not in ("http", "https"):
            raise RenderError(f"{kind}: {key} must be an http(s) address")
    return dict.fromkeys(spec.optional) | context | {"language": language}


def render(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML of an email kind in a language (English if unknown)."""
    lang = language_of(language)
    values = _context(kind, lang, context)
    personal = {
        key: value
        for key, value in values.items()
        if (key in _PERSONAL or key.endswith("link")) and isinstance(value, str) and value
    }
    form = _form(kind, lang, values, personal)
    if form is None:
        return _render(kind, lang, values)
    subject, text, html = form
    for key, value in personal.items():
        mark = _mark(key, 0)
        subject = subject.replace(mark, value)
        text = text.replace(mark, value)
        html = html.replace(mark, escape(value))
    return subject, text, html


def _render(kind: str, language: str, values: dict[str, Any]) -> tuple[str, str, str]:
    env = environment(language)
    subject = " ".join(env.get_template(f"{kind}.subject.j2").render(values).split())
    values = values | {"subject": subject}
    text = _BLANK_LINES.sub("\n\n", env.get_template(f"{kind}.txt.j2").render(values)).strip()
    html = env.get_template(f"{kind}.html.j2").render(values)
    return subject, text + "\n", html


# A bulk send (a trial's 2,000 invitations) renders the same email again and again, but for
# the name and the links. From the second email with the same rest of the context, the texts
# are rendered once with marks in place of those values, which are then put in (escaped for
# the HTML). Rendering with two different sets of marks, of different lengths, must give the
# same texts but for the marks; a template whose output depends on these values otherwise is
# always rendered in full.
_PERSONAL = frozenset({"candidate_name"})
_Form = tuple[str, str, str]
_FORMS: dict[tuple[str, str, bytes], _Form | None] = {}
_SEEN: set[tuple[str, str, bytes]] = set()


def _mark(key: str, variant: int) -> str:
    return f"\x1a{variant}{key}{'~' * 7 * variant}\x1a"


def _form(
    kind: str, language: str, values: dict[str, Any], personal: dict[str, Any]
) -> _Form | None:
    """The texts with marks for the personal values, once the rest was seen before; None
    when they must be rendered in full."""
    if not personal or not all(
        " ".join(v.split()) == v and "\x1a" not in v for v in personal.values()
    ):
        return None
    rest = {key: value for key, value in values.items() if key not in personal}
    rest_json = json.dumps(rest, sort_keys=True, default=str).encode()
    key = (kind, language, hashlib.sha256(rest_json).digest())  # small keys, whatever the text
    if key in _FORMS:
        return _FORMS[key]
    if key not in _SEEN:  # a one-off email is rendered once, in full
        if len(_SEEN) >= 10_000:
            _SEEN.clear()
        _SEEN.add(key)
        return None
    first, second = (
        _render(kind, language, rest | {name: _mark(name, variant) for name in personal})
        for variant in (0, 1)
    )
    form: _Form | None = first
    for a, b in zip(first, second, strict=True):
        for name in personal:
            a = a.replace(_mark(name, 0), _mark(name, 1))
        if a != b:
            form = None
    if len(_FORMS) >= 256:
        _FORMS.clear()
    _FORMS[key] = form
    return form
