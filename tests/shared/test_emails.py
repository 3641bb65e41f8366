"""Every email kind renders in French, Dutch, German and English, with nothing left untranslated."""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from shared.emails import KINDS, LANGUAGES, RenderError, render
from shared.emails.texts import LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in LANGUAGES if language != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _sample(kind: str) -> dict[str, Any]:
    return dict(KINDS[kind].sample)


def _variants(kind: str) -> list[dict[str, Any]]:
    """The sample, the sample without its optional keys, and the other branch of `passed`."""
    sample = _sample(kind)
    variants = [sample, {key: sample[key] for key in KINDS[kind].required}]
    if "passed" in sample:
        variants.append(sample | {"passed": False, "score": 7, "max_score": None})
    return variants


def _links(context: dict[str, Any]) -> list[str]:
    return [str(value) for key, value in context.items() if key.endswith("link") and value]


def _template_msgids() -> set[str]:
    """The msgids of the emails (the "messages" domain), extracted as `make messages` does with
    babel.cfg (which also maps the other domains' files)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(str(ROOT), method_map, options_map)
    return {
        message if isinstance(message, str) else message[0]
        for filename, _, message, _, _ in found
        if filename.startswith("shared/emails/")
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_every_language(kind: str, language: str) -> None:
    for context in _variants(kind):
        _check_rendering(kind, language, context)


def _check_rendering(kind: str, language: str, context: dict[str, Any]) -> None:
    subject, text, html = render(kind, language, context)

    assert subject.strip() and "\n" not in subject
    assert "Élise Dupont" in text and "Élise Dupont" in html
    assert f'<html lang="{language}">' in html
    links = _links(context)
    for link in links:
        assert link in text and f'href="{link}"' in html
    # Nothing remote: no script, image, stylesheet or frame; the only addresses are the links.
    assert not re.search(r"<(script|img|link|iframe|object|embed|style)\b", html, re.I)
    assert not re.search(r"\bsrc\s*=|url\(|@import", html, re.I)
    assert sorted(set(re.findall(r'href="([^"]*)"', html))) == sorted(set(links))
    for rendering in (text, html):
        for link in links:
            rendering = rendering.replace(link, "")
        assert "http" not in rendering


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_english_left_in_a_translation(kind: str, language: str) -> None:
    catalogue = _catalogue(language)
    english = [
        fragment
        for msgid in _template_msgids()
        if msgid not in catalogue or catalogue[msgid].string != msgid  # e.g. "%(label)s: …"
        for fragment in PLACEHOLDER.split(msgid)
        if len(fragment.strip()) >= 12
    ]
    for context in _variants(kind):
        subject, text, html = render(kind, language, context)
        en_subject, en_text, en_html = render(kind, "en", context)
        assert text != en_text and html != en_html
        if kind != "free_message":  # its subject is HR's own text
            assert subject != en_subject
        for fragment in english:
            assert fragment not in subject + text + html, f"untranslated: {fragment!r}"


def _catalogue(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_translates_every_msgid(language: str) -> None:
    catalogue = _catalogue(language)
    msgids = _template_msgids()
    assert len(msgids) > 50
    for msgid in msgids:
        message = catalogue.get(msgid)
        assert message is not None, f"{language}: no entry for {msgid!r}"
        assert not message.fuzzy, f"{language}: fuzzy {msgid!r}"
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(forms) >= (catalogue.num_plurals if message.pluralizable else 1)
        assert all(forms), f"{language}: empty translation of {msgid!r}"
    unused = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id} - msgids
    assert unused == set(), "catalogue entries no template uses"
    problems = [(message.id, errors) for message, errors in catalogue.check()]
    assert problems == [], "placeholders differ between msgid and msgstr"


def test_pybabel_extract_reads_the_templates(tmp_path: Path) -> None:
    """As `make messages` extracts the "messages" domain: its files, named from the root."""
    pot = tmp_path / "messages.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg"]
    files = [
        *(
            str(p.relative_to(ROOT))
            for p in sorted((ROOT / "shared/emails/templates").glob("*.j2"))
        ),
        "shared/emails/calendar_text.py",
    ]
    subprocess.run([*command, "-o", str(pot), *files], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as extracted:
        assert {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(extracted) if m.id} == (
            _template_msgids()
        )


SUNDAY_AFTER_DST = {"fr": "29 mars 2026", "nl": "29 maart 2026", "de": "29. März 2026"}
SATURDAY_BEFORE = {"fr": "28 mars 2026", "nl": "28 maart 2026", "de": "28. März 2026"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_times_are_local_to_the_trial_across_the_dst_change(language: str) -> None:
    """08:00 UTC is 09:00 in Brussels on Saturday 28 March 2026 and 10:00 on Sunday 29."""
    context = _sample("trial_invitation") | {"timezone": "Europe/Brussels"}
    after = render("trial_invitation", language, context | {"starts_at": "2026-03-29T08:00:00Z"})
    before = render("trial_invitation", language, context | {"starts_at": "2026-03-28T08:00Z"})
    en = language == "en"
    for (subject, text, html), day, hour in (
        (after, SUNDAY_AFTER_DST.get(language, "March 29, 2026"), "10:00"),
        (before, SATURDAY_BEFORE.get(language, "March 28, 2026"), "9:00 AM" if en else "09:00"),
    ):
        for rendering in (subject, text, html):
            rendering = rendering.replace("\u202f", " ").replace("\u00a0", " ")  # CLDR spaces
            assert day in rendering and hour in rendering


def test_the_same_instant_is_written_in_each_trial_zone() -> None:
    """Formatted instants are remembered: one written for Brussels must not serve New York."""
    context = _sample("trial_invitation") | {"starts_at": "2027-03-28T08:00:00Z"}
    texts = [
        render("trial_invitation", "en", context | {"timezone": zone})[1].replace("\u202f", " ")
        for zone in ("Europe/Brussels", "America/New_York", "Europe/Brussels")
    ]
    assert "10:00 AM" in texts[0] and "4:00 AM" in texts[1] and texts[2] == texts[0]


def test_dates_use_the_candidate_locale() -> None:
    context = _sample("welcome") | {"started_on": "2026-09-01"}
    assert "1 septembre 2026" in render("welcome", "fr", context)[1]
    assert "1 september 2026" in render("welcome", "nl", context)[1]
    assert "1. September 2026" in render("welcome", "de", context)[1]
    assert "September 1, 2026" in render("welcome", "en", context)[1]


def test_what_hr_typed_is_escaped_in_html() -> None:
    context = _sample("trial_invitation") | {
        "trial_title": "<script>alert(1)</script>",
        "info": 'Apportez un stylo <b>bleu</b>.\nEt "rien" d\'autre.',
    }
    _, text, html = render("trial_invitation", "fr", context)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html and "&lt;b&gt;bleu&lt;/b&gt;" in html
    assert "<b>bleu</b>" in text, "plain text is not HTML"


def test_free_message_keeps_subject_and_line_breaks() -> None:
    context = _sample("free_message") | {"subject": "Votre dossier", "body": "Ligne 1\nLigne 2"}
    subject, text, html = render("free_message", "nl", context)
    assert subject == "Votre dossier"
    assert "Ligne 1\nLigne 2" in text
    assert "Ligne 1<br>\nLigne 2" in html


def test_spontaneous_validation_as_the_api_queues_it() -> None:
    context = {"candidate_name": "Élise Dupont", "job_title": None, "job_reference": None}
    subject, text, _ = render("application_validated", "fr", context)
    assert "CVthèque" in subject and "CVthèque" in text


def test_unknown_language_is_english() -> None:
    assert render("not_retained", "es", _sample("not_retained")) == render(
        "not_retained", "en", _sample("not_retained")
    )


def test_contract_is_enforced() -> None:
    with pytest.raises(RenderError, match="unknown"):
        render("no_such_kind", "fr", {})
    with pytest.raises(RenderError, match="trial_title"):
        render("trial_reminder", "fr", _sample("trial_reminder") | {"trial_title": None})
    with pytest.raises(RenderError, match="http"):
        render("job_proposed", "fr", _sample("job_proposed") | {"link": "javascript:alert(1)"})
