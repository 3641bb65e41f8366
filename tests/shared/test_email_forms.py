"""A bulk send renders an email once with marks for the name and links: the texts must be
exactly those of a full rendering, for every kind and language."""

import importlib
from typing import Any

import pytest

from shared.emails import KINDS
from shared.emails.texts import LANGUAGES, render

rendering = importlib.import_module("shared.emails.texts")  # the package exports render()


def _personal(context: dict[str, Any], n: int) -> dict[str, Any]:
    """The sample's context for another candidate: a name and links HTML must escape."""
    changed = dict(context)
    changed["candidate_name"] = f"Zoë O'Brien <{n}> & Cie"
    for key in context:
        if key.endswith("link") and context[key]:
            changed[key] = f'{context[key]}?n={n}&x="{n}"'
    return changed


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_repeated_email_reads_as_a_full_rendering(kind: str, language: str) -> None:
    sample = dict(KINDS[kind].sample)
    for n in range(3):  # the first is rendered in full, the second builds the form
        context = _personal(sample, n)
        expected = rendering._render(kind, language, rendering._context(kind, language, context))
        assert render(kind, language, context) == expected


@pytest.fixture
def no_forms(monkeypatch: pytest.MonkeyPatch) -> dict[Any, Any]:
    """No form built or email seen yet."""
    forms: dict[Any, Any] = {}
    monkeypatch.setattr(rendering, "_FORMS", forms)
    monkeypatch.setattr(rendering, "_SEEN", set())
    return forms


def test_trial_invitations_use_the_form(no_forms: dict[Any, Any]) -> None:
    sample = dict(KINDS["trial_invitation"].sample)
    for n in range(3):
        render("trial_invitation", "fr", _personal(sample, n))
    assert len(no_forms) == 1 and None not in no_forms.values(), "rendered from a form"


def test_a_one_off_email_builds_no_form(no_forms: dict[Any, Any]) -> None:
    render("trial_invitation", "fr", _personal(dict(KINDS["trial_invitation"].sample), 0))
    assert no_forms == {}


def test_a_template_that_depends_on_the_name_is_rendered_in_full(
    monkeypatch: pytest.MonkeyPatch, no_forms: dict[Any, Any]
) -> None:
    real = rendering._render

    def by_length(kind: str, language: str, values: dict[str, Any]) -> tuple[str, str, str]:
        subject, text, html = real(kind, language, values)
        return subject, text + f"{len(values['candidate_name'])}\n", html

    monkeypatch.setattr(rendering, "_render", by_length)
    sample = dict(KINDS["welcome"].sample)
    texts = [render("welcome", "en", _personal(sample, n))[1] for n in range(3)]
    assert [text.rsplit("\n", 2)[-2] for text in texts] == ["21", "21", "21"]
    assert list(no_forms.values()) == [None]
