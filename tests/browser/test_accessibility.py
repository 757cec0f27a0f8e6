"""Accessibility of every main page, in a real Chromium against a real server.

axe-core (bundled by axe-playwright-python) checks each page in English and in French and
must report no serious or critical violation; at 375 px wide nothing may scroll sideways (wide
content scrolls inside its own box); the keyboard reaches "skip to content" first, and focus
is visible.
"""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from .conftest import STEWARDED, shot, sign_in

BLOCKING = {"serious", "critical"}
# Wide content on purpose: a long unbroken line of code, a wide table and a long URL, so the
# 375 px check sees what real practices contain.
BODY = """## Why

We meet every month to help each other with a real case.

```
long-command --with-a-very-long-option=and-a-very-long-value --another-option=another-long-value
```

| Step | Who | How long | What comes out of it | Notes for the facilitator of the group |
|------|-----|----------|----------------------|-----------------------------------------|
| Case | The client | 10 minutes | A clear question | Keep the time, write the question down |

See https://example.org/a/very/long/address/that/does/not/break/anywhere/in/the/middle/at/all
"""


def ok(answer, status=200):
    code, data = answer
    assert code == status, (code, data)
    return data


@pytest.fixture(scope="module")
def material(site) -> dict[str, str]:
    """What the pages show, made through the API: a practice edited once (a diff), forked and
    improved by bob (a family tree), and bob's proposal to give the improvement back."""
    up = ok(site.api("POST", "/practices", "alice", {
        "title": "Accessible co-development circle", "body": BODY, "agree_license": True}),
        201)
    first = up["revision"]
    second = ok(site.api("PUT", f"/practices/{up['slug']}", "alice", {
        "body": BODY.replace("every month", "every second week"), "base_revision": first,
        "agree_license": True, "message": "Meet more often"}))["revision"]
    fork = ok(site.api("POST", f"/practices/{up['slug']}/forks", "bob",
                       {"agree_license": True}), 201)
    current = ok(site.api("GET", f"/practices/{fork['slug']}", "bob"))
    ok(site.api("PUT", f"/practices/{fork['slug']}", "bob", {
        "body": current["body"] + "\n## What we changed\n\nA round of silence first.\n",
        "base_revision": current["revision"], "agree_license": True}))
    proposal = ok(site.api("POST", f"/practices/{fork['slug']}/proposals", "bob", {
        "title": "A round of silence first", "message": "We tried it for three months."}), 201)
    return {"slug": up["slug"], "fork": fork["slug"], "from": first, "to": second,
            "proposal": str(proposal["id"])}


# name, address (filled from ``material``), who signs in first
PAGES = [
    ("home", "/", None),
    ("practice", "/p/{slug}", None),
    ("edit", f"/p/{STEWARDED}/edit", "alice"),
    ("history", "/p/{slug}/history", None),
    ("diff", "/p/{slug}/diff?from={from}&to={to}", None),
    ("family", "/p/{slug}/family", None),
    ("proposal", "/proposals/{proposal}", None),
    ("proposals", "/proposals", None),
    ("ledger", "/ledger", None),
    ("search", "/search?q=groupe", None),
    ("import", "/import", "alice"),
    ("sign-in", "/login", None),
]
PAGE_IDS = [name for name, _path, _who in PAGES]


def open_page(new_page, material, spec, locale="en", width=1280):
    name, path, who = spec
    page = new_page(locale=locale, width=width)
    if who:
        sign_in(page, who)
    response = page.goto(path.format(**material))
    assert response is not None and response.status == 200, \
        f"{name}: {path.format(**material)} answered {response and response.status}"
    assert page.get_attribute("html", "lang") == locale, f"{name} is not in {locale}"
    return page


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"]][:5]
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} {v['helpUrl']}\n"
                     f"    on {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("spec", PAGES, ids=PAGE_IDS)
def test_axe_finds_no_serious_violation(new_page, material, spec, locale):
    page = open_page(new_page, material, spec, locale)
    results = Axe().run(page)
    violations = results.response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{spec[0]} ({locale}) at {page.url}:\n{describe(blocking)}"
    # the run really checked the page: axe saw its landmarks and its heading
    assert results.response["url"] == page.url
    assert page.locator("main#main h1").count() == 1
    if locale == "en":
        shot(page, f"screen-{spec[0]}")


@pytest.mark.parametrize("spec", PAGES, ids=PAGE_IDS)
def test_no_sideways_scrolling_at_375px(new_page, material, spec):
    page = open_page(new_page, material, spec, width=375)
    widths = page.evaluate("""() => ({page: document.documentElement.scrollWidth,
        body: document.body.scrollWidth,
        // the outermost elements that stick out: what to fix
        culprits: [...document.querySelectorAll('main *, header *, footer *')]
          .filter(e => e.getBoundingClientRect().right > 375.5
                       && e.parentElement.getBoundingClientRect().right <= 375.5)
          .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))})
    """)
    assert widths["page"] <= 375 and widths["body"] <= 375, f"{spec[0]}: {widths}"
    if spec[0] in ("home", "practice"):
        shot(page, f"screen-{spec[0]}-375")


def test_wide_content_wraps_or_scrolls_inside_its_own_box(new_page, material):
    """At 375 px the practice's long code line wraps inside the screen, and wide tables (the
    practice's own, the ledger's) scroll inside a box the keyboard can reach."""
    def boxes(page):
        return page.locator("main .table-scroll").evaluate_all("""els => els.map(e => ({
            wide: e.scrollWidth > e.clientWidth, overflow: getComputedStyle(e).overflowX,
            right: e.getBoundingClientRect().right, tabindex: e.tabIndex,
            label: document.getElementById(e.getAttribute('aria-labelledby'))
                   ?.textContent.trim()}))""")

    page = open_page(new_page, material, PAGES[PAGE_IDS.index("practice")], width=375)
    right = page.locator("main .body pre").evaluate("e => e.getBoundingClientRect().right")
    assert right <= 375, f"the code block sticks out of the screen: {right}"
    found = boxes(page)
    assert len(found) == 1 and page.locator("main .body .table-scroll > table").count() == 1
    assert found[0]["wide"] and found[0]["overflow"] == "auto", found
    assert found[0]["tabindex"] == 0 and found[0]["right"] <= 375, found

    page = open_page(new_page, material, PAGES[PAGE_IDS.index("ledger")], width=375)
    found = boxes(page)
    assert any(box["wide"] for box in found), f"no ledger table is wider than 375 px: {found}"
    for box in found:
        assert box["overflow"] == "auto" and box["tabindex"] == 0 and box["label"], found


def test_tab_reaches_skip_link_first_and_focus_is_visible(page, material):
    page.goto(f"/p/{material['slug']}")
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => { const e = document.activeElement;
        const style = getComputedStyle(e);
        return {tag: e.tagName, href: e.getAttribute('href'), text: e.textContent.trim(),
                outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
                left: e.getBoundingClientRect().left, visible: e.matches(':focus-visible')}; }""")
    assert focused["tag"] == "A" and focused["href"] == "#main", focused
    assert focused["text"] == "Skip to content", focused
    assert focused["visible"], focused
    assert focused["outline"] not in ("none", "") and focused["width"] >= 2, focused
    assert focused["left"] >= 0, f"the focused skip link is off screen: {focused}"
    page.keyboard.press("Enter")
    # the fragment navigation is reported by the browser a moment later: wait for it (5 s)
    page.wait_for_url("**#main", timeout=5000)
    # the next Tab goes on from the main content, not back through the header
    page.keyboard.press("Tab")
    inside_main = page.evaluate("() => !!document.activeElement.closest('main')")
    assert inside_main, "after the skip link, Tab did not continue inside <main>"
    # a :focus-visible rule exists in the style sheet
    rules = page.evaluate("""() => [...document.styleSheets].flatMap(s => [...s.cssRules])
        .map(r => r.selectorText || '').filter(t => t.includes(':focus-visible'))""")
    assert rules, "no :focus-visible rule in the style sheets"
