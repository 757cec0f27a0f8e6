"""The search index as derived data, and the analysis it rests on (no HTTP)."""
import shutil

from commons.services import analysis, search

from .conftest import make_app


def terms(language, text):
    return [t.text for t in analysis.language_analyzer(language)(text)]


def test_spellings_of_a_word_meet_the_same_terms():
    for language in ("fr", "en"):
        hyphen = set(terms(language, "co-developpement"))
        accents = set(terms(language, "Co-Développement"))
        joined = set(terms(language, "codéveloppement"))
        assert hyphen == accents and joined <= hyphen, language
    assert terms("fr", "l'équipe") == terms("fr", "equipe") == terms("fr", "Équipes")
    assert terms("fr", "qu'on rétrospectives") == terms("fr", "retrospective")
    assert terms("en", "the team's retrospectives") == terms("en", "team retrospective")


def test_title_words_are_also_joined():
    joined = analysis.language_analyzer("en", join_pairs=True)
    assert "icebreak" in [t.text for t in joined("Ice Breakers")]


def test_field_filters_narrow_the_search():
    words, required, excluded = search.split_fields(
        'lang:fr rétrospective -tag:remote "tag:kept in phrase" license:CC-BY-SA-4.0')
    assert words == 'rétrospective "tag:kept in phrase"'
    assert [(t.fieldname, t.text) for t in required] == [("language", "fr"),
                                                          ("license", "cc-by-sa-4.0")]
    assert [(t.fieldname, t.text) for t in excluded] == [("tags", "remote")]


def test_likely_slips_cost_less():
    assert search.typing_cost("facilitaton", "facilitation") < \
        search.typing_cost("facilitaton", "facilitator")
    assert search.typing_cost("consnet", "consent") < search.typing_cost("consnet", "connect")


def test_a_deleted_index_is_rebuilt_when_the_app_starts(app, inst):
    before = [h.slug for h in search.search(inst, "codéveloppement").hits]
    assert "groupe-de-co-developpement" in before
    folder = inst.config["INDEX_DIR"]
    inst.engine.dispose()
    search._indexes.pop(str(folder), None)
    search._searchers.pop(str(folder), None)
    shutil.rmtree(folder)
    again = make_app(inst.home)
    inst2 = again.extensions["commons"]
    try:
        assert [h.slug for h in search.search(inst2, "codéveloppement").hits] == before
        with inst2.session() as session:
            assert search.check(inst2, session) == []
    finally:
        inst2.engine.dispose()


def test_check_names_a_stale_entry(inst, api):
    r = api("put", "/practices/detox-zone", "root", json={
        "base_revision": api("get", "/practices/detox-zone").get_json()["revision"],
        "body": "A brand new word: zanzibarian.", "agree_license": True})
    assert r.status_code == 200
    assert [h.slug for h in search.search(inst, "zanzibarian").hits] == ["detox-zone"]
    with inst.session() as session:
        assert search.check(inst, session) == []
    writer = search.open_index(inst).writer()
    writer.delete_by_term("slug", "detox-zone")
    writer.commit()
    with inst.session() as session:
        problems = search.check(inst, session)
    assert len(problems) == 1 and problems[0].startswith("practices/detox-zone.md@")
