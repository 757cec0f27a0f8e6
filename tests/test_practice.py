"""The practice document: front matter round trips, slugs, validation, the template."""
import pytest

from commons.errors import ValidationError
from commons.services import practice as doc

EXAMPLE = """---
title: Groupe de co-développement
summary: Six à huit pairs s'aident à résoudre le problème réel de l'un d'eux.
language: fr
tags: [peer-learning, co-development]
license: CC-BY-SA-4.0        # the practice's licence in Commons
stewards: [alice]            # usernames; the creator is the first
translations: {en: co-development-group}
forked_from: {slug: co-development, revision: 3f2c0a1}
credits: [{name: Adrien Payette, role: original author}]
x-local-note: keep me
---
## Pourquoi

Parce que.
"""


def test_parse_example():
    p = doc.parse(EXAMPLE)
    assert p.title == "Groupe de co-développement"
    assert p.tags == ["peer-learning", "co-development"]
    assert p.stewards == ["alice"]
    assert p.translations == {"en": "co-development-group"}
    assert p.meta["forked_from"] == {"slug": "co-development", "revision": "3f2c0a1"}
    assert p.body.startswith("## Pourquoi")


def test_unchanged_front_matter_is_byte_identical():
    p = doc.parse(EXAMPLE)
    assert doc.serialize(p) == EXAMPLE
    p.body = "## Pourquoi\n\nAutre chose.\n"
    out = doc.serialize(p)
    assert out.split("---\n")[1] == EXAMPLE.split("---\n")[1]  # comments kept too


def test_changed_front_matter_keeps_unknown_keys():
    p = doc.parse(EXAMPLE)
    p.meta["tags"] = ["peer-learning"]
    again = doc.parse(doc.serialize(p))
    assert again.meta["x-local-note"] == "keep me"
    assert again.tags == ["peer-learning"]
    assert again.meta["credits"] == [{"name": "Adrien Payette", "role": "original author"}]


@pytest.mark.parametrize("title,slug", [
    ("Co-développement", "co-developpement"),
    ("Groupe de co-développement", "groupe-de-co-developpement"),
    ("  Rôles & cercles !  ", "roles-cercles"),
    ("Ça marche: l'été", "ca-marche-l-ete"),
    ("x" * 100, "x" * 80),
    ("!!!", ""),
])
def test_slugify(title, slug):
    assert doc.slugify(title) == slug


@pytest.mark.parametrize("slug", ["", "A", "a--b", "-a", "a-", "a b", "../x", "a/b", "é", "x" * 81,
                                  "--output=x", "a\x00b"])
def test_invalid_slugs(slug):
    assert not doc.is_valid_slug(slug)
    with pytest.raises(ValidationError):
        doc.validate_slug(slug)


@pytest.mark.parametrize("text", [
    "---\ntitle: x\n",                                   # not closed
    "---\n- a list\n---\nbody",                           # not a mapping
    "---\ntitle: !!python/object:os.system x\n---\n",    # python tags
    "---\na: &x [1, 2]\nb: *x\n---\n",                    # aliases (billion laughs)
    "---\ntitle: [unclosed\n---\n",                      # bad YAML
    "---\ntitle: x\n---\nnul\x00byte",
])
def test_malformed_documents_are_refused(text):
    with pytest.raises(ValidationError):
        doc.parse(text)


def test_template_in_ui_language():
    fr = doc.template_body("fr")
    for head in ("Pourquoi", "Quand l'utiliser", "Comment (étapes)", "Durée et taille du groupe",
                 "Rôles", "Variantes", "Pièges", "Sources"):
        assert f"## {head}" in fr
    en = doc.template_body("en")
    for head in ("Why", "When to use", "How (steps)", "Duration and group size", "Roles",
                 "Variations", "Pitfalls", "Sources"):
        assert f"## {head}" in en
    assert doc.template_body("de") == en


def test_tags_normalised():
    assert doc.normalise_tags("Peer Learning, rituels d'équipe,, x") == [
        "peer-learning", "rituels-d-equipe", "x"]
    with pytest.raises(ValidationError):
        doc.normalise_tags([1, 2])
    with pytest.raises(ValidationError):
        doc.normalise_tags([f"t{i}" for i in range(21)])
