"""Shortcuts taken for speed give the answers of the slow paths they replace: the C YAML
loader those of the strict pure-Python one, the migration check Alembic's own head, and the
analysis fast paths the same terms."""
from __future__ import annotations

import pytest
import yaml
from alembic.script import ScriptDirectory

from commons import db
from commons.errors import ValidationError
from commons.services import analysis
from commons.services import practice as doc

FRONT_MATTERS = [
    "title: Plain\nsummary: One line.\nlanguage: en\ntags: [a, b-c]\n",
    "title: 'Quoted: yes'\nstewards:\n  - alice\n  - bob\nlicense: CC-BY-SA-4.0\n",
    "title: Dates 2024-01-02\ncreated: 2024-01-02\nn: 012\nf: 1e3\nflag: yes\nnull: ~\n",
    "title: Unicode — “é” 🌱\nsummary: |\n  Two\n  lines\ntranslations: {fr: x-fr}\n",
    "title: Forked\nforked_from:\n  slug: up\n  revision: abc1234\nsource: {url: 'http://x'}\n",
    "title: [unclosed\n",
    "title: a\n  bad: indent\n",
    "- a list\n- not a mapping\n",
    "title: x\ntitle: duplicate\n",
]


@pytest.mark.parametrize("front", FRONT_MATTERS)
def test_the_fast_yaml_loader_reads_what_the_strict_one_reads(front: str) -> None:
    text = f"---\n{front}---\nBody.\n"
    try:
        strict = yaml.load(front, Loader=doc._StrictLoader)
    except yaml.YAMLError as exc:
        with pytest.raises(ValidationError) as refused:
            doc.parse(text)
        assert str(exc).splitlines()[0] in str(refused.value)
        return
    if not isinstance(strict, dict):
        with pytest.raises(ValidationError):
            doc.parse(text)
        return
    assert doc.parse(text).meta == strict


def test_aliases_are_still_refused() -> None:
    with pytest.raises(ValidationError):
        doc.parse("---\na: &x [1, 2]\nb: *x\ntitle: t\n---\nBody\n")


def test_the_migration_head_is_alembics(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    script = ScriptDirectory.from_config(db.alembic_config(engine))
    assert db.head_revision() == script.get_current_head()
    assert not db.is_current(engine)  # an empty database: Alembic must run
    db.upgrade(engine)
    assert db.is_current(engine)
    db.upgrade(engine)  # and again: nothing to do


@pytest.mark.parametrize("text", ["l'équipe d'abord, qu'on co-développe", "team's rock-n-roll",
                                  "aujourd’hui jusqu'au", "plain words only", "a-b-c 'quoted'"])
def test_analysis_fast_paths_give_the_same_terms(text: str) -> None:
    slow = []
    for token in analysis.TOKEN.findall(text.lower()):
        match = analysis.ELISION.match(token)
        if match:
            token = match.group(1)
        elif token.endswith(("'s", "’s")):
            token = token[:-2]
        parts = [p for p in analysis._JOINERS.split(token) if p]
        slow += parts + (["".join(parts)] if len(parts) > 1 else [])
    assert list(analysis.words(text)) == [analysis.fold(t) for t in slow]
