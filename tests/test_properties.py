"""Property tests (Hypothesis) for the pure rules everything else stands on: slugs, front
matter round-trips, the three-way merge and the licence registry.

Each property is stated for *all* inputs of a kind, and Hypothesis looks for a counter-example.
The ``ci`` profile (default) runs 100 examples per property; ``HYPOTHESIS_PROFILE=long`` runs
2,000 (see ``hypothesis_profiles.py``).
"""
from __future__ import annotations

import re
import string

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from commons.errors import ValidationError
from commons.services import licensing
from commons.services.practice import (SLUG_MAX, SLUG_RE, Practice, is_valid_slug, parse,
                                       serialize, slugify, validate_slug)
from commons.services.store import Store

from . import hypothesis_profiles  # noqa: F401  (registers and loads the profile)

# ---- slugs ---------------------------------------------------------------------------------------

ACCENTED = {"a": "àáâãäå", "c": "ç", "e": "èéêë", "i": "ìíîï", "n": "ñ", "o": "òóôõöø",
            "u": "ùúûü", "y": "ýÿ"}


@given(st.text())
def test_slugify_gives_a_valid_slug_or_nothing(title):
    slug = slugify(title)
    assert slug == "" or is_valid_slug(slug)
    assert len(slug) <= SLUG_MAX


@given(st.text())
def test_slugify_is_idempotent(title):
    slug = slugify(title)
    assert slugify(slug) == slug


@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=1))
def test_slugify_keeps_some_of_any_ascii_word(title):
    slug = slugify(title)
    assert 1 <= len(slug) <= SLUG_MAX
    assert title.lower().startswith(slug)


@given(st.lists(st.text(alphabet="aceinouy", min_size=1, max_size=12), min_size=1, max_size=8),
       st.data())
def test_slugify_transliterates_accents(words, data):
    plain = " ".join(words)
    accented = "".join(data.draw(st.sampled_from(ACCENTED[ch])) if ch in ACCENTED else ch
                       for ch in plain)
    assert slugify(accented) == slugify(plain)
    assert slugify(plain.title()) == slugify(plain)


@given(st.one_of(st.text(), st.from_regex(SLUG_RE, fullmatch=True), st.none(), st.integers()))
def test_validate_slug_accepts_exactly_the_valid_slugs(value):
    valid = isinstance(value, str) and 1 <= len(value) <= SLUG_MAX and bool(
        re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", value))
    assert is_valid_slug(value) is valid
    if valid:
        assert validate_slug(value) == value
        assert slugify(value) == value
    else:
        with pytest.raises(ValidationError):
            validate_slug(value)


# ---- front matter --------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(),
                    st.floats(allow_nan=False), st.text(max_size=40))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)
known = st.fixed_dictionaries({}, optional={
    "title": st.text(max_size=60), "summary": st.text(max_size=120),
    "language": st.sampled_from(["en", "fr", "de", "oc"]),
    "tags": st.lists(st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8})?", fullmatch=True),
                     max_size=5),
    "license": st.sampled_from(["CC-BY-SA-4.0", "CC-BY-4.0", "CC0-1.0"]),
    "stewards": st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True), max_size=3),
    "translations": st.dictionaries(st.sampled_from(["en", "fr", "de"]),
                                    st.from_regex(SLUG_RE, fullmatch=True), max_size=3),
})
unknown = st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=5)
metas = st.builds(lambda k, u: {**u, **k}, known, unknown)
bodies = st.text().filter(lambda s: "\x00" not in s)


def _normalised(body: str) -> str:
    """``serialize`` ends a non-empty body with a newline."""
    return body + "\n" if body and not body.endswith("\n") else body


@given(metas, bodies)
@example({"title": "a\x85b", "x\x85": ["\x85"]}, "")  # NEL was folded into a space
def test_parse_inverts_serialize(meta, body):
    parsed = parse(serialize(Practice(meta, body)))
    assert parsed.meta == meta  # unknown keys included
    assert parsed.body == _normalised(body)


@given(metas, bodies)
def test_unchanged_document_reserialises_byte_identically(meta, body):
    text = serialize(Practice(meta, body))
    assert serialize(parse(text)) == text


@given(metas, bodies, st.sampled_from(["# kept comment\n", "", "# a\n# b\n"]),
       st.text(max_size=60))
def test_hand_written_front_matter_is_kept_until_it_changes(meta, body, comment, new_title):
    """A hand-written front matter (comments, its own layout) keeps its bytes while its
    mapping is unchanged; once a field changes, the other keys still survive."""
    first = serialize(Practice(meta, body))
    text = "---\n" + comment + first[len("---\n"):]
    document = parse(text)
    assert serialize(document) == text
    document.body = document.body + "More.\n"
    assert serialize(document).startswith(text[:text.index("---\n", 4) + 4])
    document.meta["title"] = new_title
    again = parse(serialize(document))
    assert again.meta == {**meta, "title": new_title}


# ---- three-way merge -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    """``merge_texts`` only needs git and a scratch folder, not a repository's content."""
    return Store(tmp_path_factory.mktemp("merge") / "content.git")


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                       blacklist_characters="\x00"), max_size=200)
WORDS = ["alpha", "beta", "gamma", "delta", "", "  indented", "# Heading", "- item"]
line_texts = st.lists(st.sampled_from(WORDS) | st.text(string.ascii_lowercase, max_size=6),
                      max_size=12).map(lambda lines: "".join(f"{line}\n" for line in lines))
MARKERS = ("<<<<<<< ", "=======", ">>>>>>> ")


@given(base=texts, theirs=texts)
def test_merge_with_no_change_on_our_side_is_their_change(store, base, theirs):
    assert store.merge_texts(base, base, theirs) == (theirs, True)


@given(base=texts, ours=texts)
def test_merge_with_no_change_on_their_side_is_our_change(store, base, ours):
    assert store.merge_texts(base, ours, base) == (ours, True)


@given(base=line_texts, ours=line_texts, theirs=line_texts)
def test_merge_loses_no_added_line_silently(store, base, ours, theirs):
    merged, clean = store.merge_texts(base, ours, theirs)
    kept = merged.splitlines()
    base_lines = set(base.splitlines())
    added = [line for line in ours.splitlines() + theirs.splitlines() if line not in base_lines]
    missing = [line for line in added if line not in kept]
    if clean:
        assert not missing, (merged, missing)
        assert not any(line.startswith(MARKERS) for line in kept)
    else:
        assert all(any(line.startswith(m) for line in kept) for m in MARKERS), merged
        assert not missing, (merged, missing)


@given(base=line_texts, ours=line_texts)
def test_merge_of_the_same_change_on_both_sides_is_that_change(store, base, ours):
    assert store.merge_texts(base, ours, ours) == (ours, True)


# ---- licences ------------------------------------------------------------------------------------

REGISTERED = [entry.id for entry in licensing.all_licenses()]


@pytest.mark.parametrize("license_id", REGISTERED)
def test_registered_licence_is_refused_exactly_when_not_adaptable(license_id):
    entry = licensing.get(license_id)
    reason = licensing.refusal(license_id)
    assert (reason is None) is entry.adaptable
    if reason is not None:
        assert reason.strip()


@given(st.one_of(st.text(), st.none(), st.integers(), st.lists(st.text(), max_size=2)))
def test_unknown_licence_is_refused(license_id):
    assume(licensing.get(license_id) is None)
    reason = licensing.refusal(license_id)
    assert reason and reason.strip()


@given(st.lists(st.sampled_from(REGISTERED) | st.text(max_size=20), min_size=1, max_size=4)
       .map(tuple),
       st.one_of(st.sampled_from(REGISTERED), st.text(max_size=20), st.none(), st.integers()),
       st.booleans())
def test_require_commons_license_accepts_exactly_the_allowed_tuple(allowed, value, pick):
    if pick:
        value = allowed[0]
    if value in allowed:
        assert licensing.require_commons_license(value, allowed) == value
    else:
        with pytest.raises(ValidationError) as info:
            licensing.require_commons_license(value, allowed)
        assert info.value.field == "license"


@given(st.lists(st.sampled_from(REGISTERED) | st.from_regex(r"CC-BY-SA-[0-9]\.[0-9]",
                                                             fullmatch=True), max_size=4))
def test_commons_licenses_stay_share_alike(later):
    allowed = licensing.commons_licenses(later=tuple(later))
    assert allowed[0] == licensing.COMMONS_LICENSE
    assert all(lid.startswith("CC-BY-SA-") for lid in allowed)
    assert len(set(allowed)) == len(allowed) or len(later) != len(set(later))
