"""What every candidate page must pass in the browser, and the keyboard's moves."""

import json
from pathlib import Path
from typing import Any

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 360, "height": 740}
# 200% zoom of a 1280 px window: a 640 CSS px wide page, its text twice as large.
ZOOMED = {"width": 640, "height": 740}
MAX_TABS = 40


def open_page(browser: Any, url: str, accept_language: str | None = None) -> Any:
    """A phone-sized page of its own context (no cookies shared), at `url`. The context may
    inject scripts (axe-core) despite the pages' Content-Security-Policy, which forbids any."""
    headers = {"Accept-Language": accept_language} if accept_language else {}
    context = browser.new_context(viewport=PHONE, bypass_csp=True, extra_http_headers=headers)
    page = context.new_page()
    page.goto(url)
    return page


def _violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    page.add_script_tag(content=axe_source)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return list(results["violations"])


def _readable(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {json.dumps(node['target'])}: {node['failureSummary']}")
            lines.append(f"      {node['html'][:200]}")
    return "\n".join(lines)


def _horizontal_overflow(page: Any) -> int:
    return int(
        page.evaluate(
            "() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
    )


def check_page(
    page: Any, axe_source: str, screenshots: Path, name: str, *, status: int | None = None
) -> None:
    """The page as a candidate gets it: the language asked, one h1, a title naming it, no
    axe-core violation of WCAG 2.0/2.1 A and AA, no horizontal scroll at 360 px nor at 200%
    zoom, a link to the accessibility statement; its screenshot goes to `screenshots`."""
    facts = page.evaluate(
        """() => ({
            lang: document.documentElement.lang,
            title: document.title,
            h1: [...document.querySelectorAll('h1')].map(h => h.textContent.trim()),
            scripts: document.querySelectorAll('script:not([src*=axe])').length,
            statement: [...document.querySelectorAll('footer a')].some(a => a.href.endsWith(
                '/accessibility?lang=' + document.documentElement.lang)),
        })"""
    )
    assert len(facts["h1"]) == 1, f"{name}: one h1, found {facts['h1']}"
    assert facts["h1"][0] and facts["title"].startswith(facts["h1"][0]), facts
    assert facts["statement"], f"{name}: the footer links to the accessibility statement"
    assert facts["scripts"] == 0, f"{name}: the page needs no script"
    violations = _violations(page, axe_source)
    assert violations == [], f"{name}: axe-core found\n{_readable(violations)}"
    assert _horizontal_overflow(page) <= 0, f"{name}: scrolls sideways at 360 px"
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)
    page.set_viewport_size(ZOOMED)
    zoom = page.add_style_tag(content="html { font-size: 200% }")
    try:
        assert _horizontal_overflow(page) <= 0, f"{name}: scrolls sideways at 200% zoom"
    finally:
        zoom.evaluate("style => style.remove()")
        page.set_viewport_size(PHONE)


def tab_to(page: Any, selector: str) -> None:
    """Press Tab until the element `selector` has the focus (at most MAX_TABS times), and check
    that the focus is visible on it (an outline at least 2 px wide)."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            outline = page.evaluate(
                """() => {
                    const style = getComputedStyle(document.activeElement);
                    return [style.outlineStyle, parseFloat(style.outlineWidth)];
                }"""
            )
            assert outline[0] != "none" and outline[1] >= 2, f"no visible focus on {selector}"
            return
    raise AssertionError(f"Tab never reached {selector}")


def press_and_wait(page: Any, key: str) -> int:
    """Press `key` on what has the focus, which submits a form: the answer's status."""
    with page.expect_navigation() as navigation:
        page.keyboard.press(key)
    return int(navigation.value.status)
