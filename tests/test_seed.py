"""The starter practices shipped in content/: complete, bilingual, linked, under CC BY-SA 4.0."""
from commons.config import CONTENT_DIR
from commons.services import practice as doc

SECTIONS = {"en": doc.TEMPLATE_SECTIONS["en"], "fr": doc.TEMPLATE_SECTIONS["fr"]}


def load_all():
    return {p.stem: doc.parse(p.read_text(encoding="utf-8"))
            for p in (CONTENT_DIR / "practices").glob("*.md")}


def test_at_least_ten_practices_in_both_languages():
    practices = load_all()
    by_lang = {"en": 0, "fr": 0}
    for p in practices.values():
        by_lang[p.language] += 1
    assert by_lang["en"] >= 10 and by_lang["fr"] >= 10


def test_each_practice_is_complete_and_linked_to_its_translation():
    practices = load_all()
    for slug, p in practices.items():
        assert doc.is_valid_slug(slug)
        assert p.license == "CC-BY-SA-4.0", slug
        assert p.title and p.summary, slug
        assert len(p.body.split()) >= 300, slug
        headings = [line[3:].strip() for line in p.body.splitlines() if line.startswith("## ")]
        assert headings == SECTIONS[p.language], slug
        other = "fr" if p.language == "en" else "en"
        twin = p.translations.get(other)
        assert twin in practices, slug
        assert practices[twin].translations.get(p.language) == slug


def test_links_between_seed_practices_resolve():
    import re
    practices = load_all()
    for slug, p in practices.items():
        for target in re.findall(r"\]\(([a-z0-9-]+)\.md", p.body) + \
                re.findall(r"\[\[([a-z0-9-]+)", p.body):
            assert target in practices, f"{slug} links to missing {target}"
