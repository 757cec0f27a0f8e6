"""End-to-end journeys: a person in Debian's Chromium, through the real pages of a real server.

Each test is one journey of issue #6, going through the forms, buttons and links a person uses
(found by their role and accessible name, so an unlabelled control fails the journey), and
asserting what that person sees. The server is shared by the whole session, so every journey
makes its own practices with unique titles. Main screens are saved to ``docs/screenshots/``.
"""
from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import shot, sign_in

pytestmark = pytest.mark.browser

LICENSE_BOX = re.compile(r"I release my contribution under the .*CC BY-SA 4\.0")
_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    """A title no other journey of this session uses."""
    return f"{prefix} {next(_numbers)}"


def agree(scope) -> None:
    """Tick the CC BY-SA box of the form in ``scope`` (a page or a form locator)."""
    scope.get_by_role("checkbox", name=LICENSE_BOX).check()


def body_field(page: Page):
    return page.get_by_label("Practice (Markdown)")


def create_practice(page: Page, title: str, body: str) -> str:
    """Create a practice through the New practice form (signed in); returns its slug."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New practice").click()
    page.get_by_label("Title", exact=True).fill(title)
    body_field(page).fill(body)
    agree(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Practice created.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return page.url.rstrip("/").rsplit("/p/", 1)[1]


def open_edit_form(page: Page) -> None:
    """Follow the practice page's Edit action (stewards and admins see it)."""
    page.get_by_role("navigation", name="Actions").get_by_role("link", name="Edit",
                                                                exact=True).click()


def edit_practice(page: Page, body: str, message: str) -> None:
    """Open the practice's edit form from its page, replace the text and save."""
    open_edit_form(page)
    body_field(page).fill(body)
    page.get_by_label("Describe your change").fill(message)
    agree(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()


def history_rows(page: Page):
    """The rows of a history page's table, newest first."""
    return page.get_by_role("table").locator("tbody tr")


# ---- journeys -----------------------------------------------------------------------------------

def test_register_and_sign_in(page: Page) -> None:
    """A newcomer registers, is welcomed signed in, signs out and signs in again."""
    username = f"walker{next(_numbers)}"
    page.goto("/")
    page.get_by_role("link", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name").fill("Wanda Walker")
    page.get_by_label("Password (at least 8 characters)").fill("a long enough secret")
    shot(page, "register-form")
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_role("status")).to_have_text("Welcome to the commons, Wanda Walker!")
    expect(page.get_by_role("link", name="Wanda Walker")).to_have_attribute("href",
                                                                             f"/u/{username}")
    expect(page.get_by_role("link", name="New practice")).to_be_visible()
    shot(page, "register-welcome")

    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("link", name="Wanda Walker")).to_have_count(0)

    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")

    page.get_by_label("Password", exact=True).fill("a long enough secret")
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Wanda Walker")).to_be_visible()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()
    shot(page, "sign-in-home")


def test_create_a_practice_from_the_template(page: Page) -> None:
    """The new practice form starts from the template's sections; filling them in and saving
    shows the practice, rendered, with its tags and its author."""
    sign_in(page, "alice")
    title = unique("Silent brainstorm")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New practice").click()
    template = body_field(page).input_value()
    for section in ("## Why", "## When to use", "## How (steps)", "## Pitfalls", "## Sources"):
        assert section in template, f"the template lacks {section!r}: {template!r}"
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Summary").fill("Ideas on sticky notes first, discussion after.")
    page.get_by_label("Tags (comma-separated)").fill("ideation, meetings")
    body = template.replace(
        "What need does this practice answer? What does it change for people?",
        "Loud voices stop drowning out the quiet ones.").replace(
        "1. First step\n2. Second step\n3. Third step",
        "1. Everyone writes alone for five minutes\n2. Notes go on the wall\n3. Cluster them")
    body_field(page).fill(body)
    expect(page.get_by_role("region", name="Preview")
           .get_by_text("Loud voices stop drowning out the quiet ones.")).to_be_visible()
    shot(page, "create-form")
    agree(page)
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Practice created.")
    article = page.get_by_role("article")
    expect(article.get_by_role("heading", level=1)).to_have_text(title)
    expect(article.get_by_role("heading", name="Why", level=2)).to_be_visible()
    expect(article.get_by_role("heading", name="Pitfalls", level=2)).to_be_visible()
    expect(article.get_by_text("Loud voices stop drowning out the quiet ones.")).to_be_visible()
    expect(article.get_by_role("listitem").filter(
        has_text="Everyone writes alone for five minutes")).to_be_visible()
    expect(article.get_by_role("link", name="ideation")).to_be_visible()
    expect(article.get_by_text("Authors: Alice")).to_be_visible()
    shot(page, "create-practice")


def test_edit_with_live_preview(page: Page) -> None:
    """Editing shows the server's rendering of the Markdown as it is typed; saving shows it."""
    sign_in(page, "alice")
    title = unique("Check-in round")
    create_practice(page, title, "## Why\n\nEveryone arrives.\n")
    open_edit_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit: {title}")
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_role("heading", name="Why")).to_be_visible()

    body_field(page).fill("## Why\n\nEveryone **arrives fully**.\n\n- one word each\n"
                          "- no comments\n\n<script>alert(1)</script>\n")
    expect(preview.locator("strong")).to_have_text("arrives fully")
    expect(preview.get_by_role("listitem")).to_have_text(["one word each", "no comments"])
    expect(preview.locator("script")).to_have_count(0)
    shot(page, "edit-preview")

    page.get_by_label("Describe your change").fill("Say how the round goes")
    agree(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    body = page.get_by_role("article").locator(".body")
    expect(body.locator("strong")).to_have_text("arrives fully")
    expect(body.get_by_role("listitem")).to_have_text(["one word each", "no comments"])
    shot(page, "edit-saved")


def test_history_and_diff(page: Page) -> None:
    """The history lists each revision with its author and message; a diff shows what one
    change removed and added."""
    sign_in(page, "alice")
    title = unique("Closing circle")
    create_practice(page, title, "## Why\n\nWe end on time.\n\n## How (steps)\n\nOne round.\n")
    edit_practice(page, "## Why\n\nWe end on time and on a high note.\n\n## How (steps)\n\n"
                        "One round.\n", "Add the high note")

    page.get_by_role("navigation", name="Actions").get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"History: {title}")
    expect(page.get_by_text("2 revisions")).to_be_visible()
    rows = history_rows(page)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("edited: Add the high note")
    expect(rows.nth(0).get_by_role("link", name="Alice")).to_have_attribute("href", "/u/alice")
    expect(rows.nth(1)).to_contain_text("created")
    shot(page, "history")

    rows.nth(0).get_by_role("link", name="what changed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Changes to {title}")
    diff = page.locator("table.diff")
    expect(diff.locator("tr.del")).to_contain_text("We end on time.")
    expect(diff.locator("tr.add ins")).to_contain_text(["and on a high note"])
    shot(page, "diff")


def test_fork_propose_and_accept_with_credit(page: Page, new_page) -> None:
    """bob forks alice's practice, improves the fork and proposes it back; alice, its steward,
    comments and accepts; the practice's history credits bob."""
    sign_in(page, "alice")
    title = unique("Walking one-on-one")
    slug = create_practice(page, title, "## Why\n\nDesks make talks stiff.\n\n"
                                        "## How (steps)\n\n1. Walk for twenty minutes\n")

    bob = new_page()
    sign_in(bob, "bob")
    bob.goto(f"/p/{slug}")
    expect(bob.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    bob.get_by_role("link", name="Fork it to improve it").click()
    agree(bob)
    bob.get_by_role("button", name="Fork this practice").click()
    expect(bob.get_by_role("status")).to_contain_text("Your fork is ready.")
    fork_slug = bob.url.rsplit("/p/", 1)[1]
    assert fork_slug != slug
    standing = bob.get_by_role("complementary", name="How this fork stands")
    expect(standing).to_contain_text(f"This is a fork of {title}: 0 ahead, 0 behind.")

    edit_practice(bob, "## Why\n\nDesks make talks stiff.\n\n## How (steps)\n\n"
                       "1. Walk for twenty minutes\n2. Stop for a coffee on the way back\n",
                  "Add the coffee stop")
    expect(standing).to_contain_text("1 ahead, 0 behind")
    shot(bob, "fork-ahead")
    standing.get_by_role("link", name="Propose back").click()
    expect(bob.locator("table.diff tr.add")).to_contain_text(["Stop for a coffee"])
    bob.get_by_label("Title of your proposal").fill("A coffee stop")
    bob.get_by_label("What you changed and why (Markdown, optional)").fill(
        "Talks go *deeper* with a coffee.")
    bob.get_by_role("main").get_by_role("button", name="Propose back").click()
    expect(bob.get_by_role("status")).to_contain_text("Your proposal is open.")
    expect(bob.get_by_role("heading", level=1)).to_contain_text("A coffee stop")
    proposal_url = bob.url
    shot(bob, "proposal-open")

    page.goto("/")
    waiting = page.get_by_role("region", name="Proposals waiting for you")
    waiting.get_by_role("link", name=re.compile(r"A coffee stop")).click()
    assert page.url == proposal_url
    expect(page.get_by_text("It merges cleanly into the current text")).to_be_visible()
    expect(page.locator(".body em")).to_have_text("deeper")
    page.get_by_label("Your comment (Markdown)").fill("Lovely idea, **taking it**.")
    page.get_by_role("button", name="Comment").click()
    thread = page.get_by_role("region", name="Discussion")
    expect(thread.get_by_text("Alice commented:")).to_be_visible()
    expect(thread.locator(".comment strong")).to_have_text("taking it")
    decide = page.get_by_role("region", name="Decide")
    agree(decide)
    shot(page, "proposal-review")
    decide.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status")).to_contain_text("Accepted: the change is now part of")
    expect(page.locator(".status-accepted")).to_have_text("accepted")
    expect(thread.get_by_text("Alice accepted this proposal.")).to_be_visible()

    # the fork kept the title: the arrow's second link is the practice it was proposed to
    page.get_by_role("main").locator(f'header .meta a[href="/p/{slug}"]').click()
    expect(page.get_by_role("article").get_by_text("Stop for a coffee on the way back")) \
        .to_be_visible()
    page.get_by_role("navigation", name="Actions").get_by_role("link", name="History").click()
    newest = history_rows(page).nth(0)
    expect(newest.get_by_role("link", name="Bob")).to_have_attribute("href", "/u/bob")
    expect(history_rows(page)).to_have_count(2)
    shot(page, "accepted-history")

    bob.goto(proposal_url)
    expect(bob.locator(".status-accepted")).to_have_text("accepted")


def test_two_people_edit_at_once_and_resolve_the_conflict(page: Page, new_page) -> None:
    """alice and bob (both stewards) open the same form; alice saves first; bob's save shows
    both versions and the marked merge; he resolves it in the editor and saves."""
    sign_in(page, "alice")
    title = unique("Weekly demo")
    slug = create_practice(page, title, "## Why\n\nShow the work.\n\n## Duration\n\n"
                                        "Thirty minutes.\n")
    tools = page.get_by_role("region", name="Steward tools")
    add = tools.locator("form").filter(has=page.get_by_role("button", name="Add steward"))
    add.get_by_label("Username").fill("bob")
    agree(add)
    add.get_by_role("button", name="Add steward").click()
    expect(page.get_by_role("status")).to_have_text("Steward added.")
    expect(page.get_by_text("Stewards: alice, bob")).to_be_visible()

    bob = new_page()
    sign_in(bob, "bob")
    for who in (page, bob):
        who.goto(f"/p/{slug}/edit")
        expect(body_field(who)).to_have_value(re.compile("Thirty minutes"))

    body_field(page).fill("## Why\n\nShow the work.\n\n## Duration\n\nFifteen minutes, sharp.\n")
    agree(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    body_field(bob).fill("## Why\n\nShow the work.\n\n## Duration\n\nAn hour, with questions.\n")
    bob.get_by_label("Describe your change").fill("Longer demo")
    agree(bob)
    bob.get_by_role("button", name="Save").click()
    expect(bob.get_by_role("heading", name="Resolve the conflict")).to_be_visible()
    conflict = bob.get_by_role("region", name="Resolve the conflict")
    expect(conflict.locator("details").filter(has_text="Your version")) \
        .to_contain_text("An hour, with questions.")
    conflict.get_by_text("Current version (saved meanwhile)").click()
    expect(conflict.locator("details").filter(has_text="Current version")) \
        .to_contain_text("Fifteen minutes, sharp.")
    marked = body_field(bob).input_value()
    assert "<<<<<<<" in marked and ">>>>>>>" in marked, marked
    assert "Fifteen minutes, sharp." in marked and "An hour, with questions." in marked, marked
    for pre in conflict.locator("details[open] pre").all():  # scroll to the lines that differ
        pre.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    shot(bob, "conflict")

    resolved = "## Why\n\nShow the work.\n\n## Duration\n\n" \
               "Fifteen minutes, sharp; questions after, for those who stay.\n"
    body_field(bob).fill(resolved)
    agree(bob)
    bob.get_by_role("button", name="Save").click()
    expect(bob.get_by_role("status")).to_have_text("Saved.")
    article = bob.get_by_role("article")
    expect(article.get_by_text("Fifteen minutes, sharp; questions after, for those who stay.")) \
        .to_be_visible()
    expect(article.get_by_text("<<<<<<<")).to_have_count(0)
    shot(bob, "conflict-resolved")

    page.goto(f"/p/{slug}/history")
    rows = history_rows(page)
    expect(rows.nth(0)).to_contain_text("edited: Longer demo")
    expect(rows.nth(0).get_by_role("link", name="Bob")).to_be_visible()


def test_search_with_a_facet_and_a_suggestion(page: Page) -> None:
    """A search shows facets; choosing one narrows the results; a misspelt search offers the
    right word, whose link leads to its results."""
    page.goto("/")
    page.get_by_role("searchbox", name="Search the practices").fill("coworking")
    page.get_by_role("search", name="Search the practices").get_by_role(
        "button", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Search: coworking")
    total = page.get_by_role("status")
    expect(total).to_have_text(re.compile(r"^\d+ practices$"))
    before = int(total.inner_text().split()[0])
    facets = page.get_by_role("complementary", name="Refine")
    french = facets.locator(".facet-language").get_by_role("link", name="fr", exact=True)
    expected = int(french.locator("xpath=..").locator(".count").inner_text())
    assert 0 < expected < before, (expected, before)
    shot(page, "search-facets")

    french.click()
    expect(page.get_by_role("link", name="Remove the filter language fr")).to_be_visible()
    expect(total).to_have_text(f"{expected} practices")
    hits = page.locator("li.hit")
    expect(hits).to_have_count(min(expected, 10))
    for i in range(hits.count()):
        expect(hits.nth(i).locator(".language")).to_have_text("Language: fr")
    shot(page, "search-narrowed")

    page.get_by_role("searchbox", name="Search the practices").fill("welcomming")
    page.get_by_role("search", name="Search the practices").get_by_role(
        "button", name="Search").click()
    suggestion = page.get_by_role("link", name="welcoming", exact=True)
    expect(page.get_by_text("Did you mean welcoming?")).to_be_visible()
    shot(page, "search-suggestion")
    suggestion.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Search: welcoming")
    expect(page.get_by_text("Did you mean")).to_have_count(0)
    expect(page.get_by_role("heading", level=3, name="Welcoming newcomers in a coworking space")) \
        .to_be_visible()


def test_switch_the_interface_to_english_and_back(new_page) -> None:
    """A French browser gets the French interface; the language switch turns it English and
    back, and the choice holds from page to page."""
    page = new_page(locale="fr-FR")
    page.goto("/")
    nav = page.get_by_role("navigation", name="Principal")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(nav.get_by_role("link", name="Modifications récentes")).to_be_visible()
    shot(page, "language-fr")

    page.get_by_role("link", name="EN", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Recent changes")).to_be_visible()
    nav.get_by_role("link", name="Recent changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recent changes")
    shot(page, "language-en")

    page.get_by_role("link", name="FR", exact=True).click()
    expect(page).to_have_url(re.compile(r"/changes"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Modifications récentes")
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_import_refused_for_its_licence(page: Page, tmp_path) -> None:
    """A non-commercial file is refused on the import page, with the reason, and nothing is
    created."""
    title = unique("Borrowed NC practice")
    upload = tmp_path / "borrowed-nc.md"
    upload.write_text(f"---\ntitle: {title}\nlicense: CC-BY-NC-4.0\nauthors: [Someone Else]\n"
                      "source_url: https://example.org/nc\n---\n\n## Why\n\nNot ours to adapt.\n",
                      encoding="utf-8")
    sign_in(page, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import practices")
    page.get_by_label("Markdown files (.md) or zip archives").set_input_files(str(upload))
    agree(page)
    page.get_by_role("main").get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", level=2)).to_have_text("1 file read, 1 refused")
    row = page.get_by_role("main").get_by_role("row").filter(has_text="borrowed-nc.md")
    expect(row).to_contain_text("refused")
    expect(row).to_contain_text("the non-commercial clause is incompatible with CC BY-SA 4.0")
    expect(row.get_by_role("link")).to_have_count(0)
    shot(page, "import-refused")

    page.get_by_role("searchbox", name="Search the practices").fill(f'"{title}"')
    page.get_by_role("search", name="Search the practices").get_by_role(
        "button", name="Search").click()
    expect(page.get_by_text("No practice matches this search.")).to_be_visible()
