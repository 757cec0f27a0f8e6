"""How text becomes search terms, per language: the Whoosh analyzers of the search index.

People type the way they speak and the way their keyboard lets them: "l'équipe" and "equipe",
"co-développement", "Co-Developpement" and "codéveloppement", "retrospectives" and
"rétrospective". Every analyzer here therefore folds case and accents before it stems, splits
French elisions (l', d', qu'…), and gives a hyphenated word both as its parts and as one
joined word, so each of those spellings meets the same terms. The same analyzer runs on the
practice when it is indexed and on the query when it is searched.
"""
from __future__ import annotations

import re
from typing import Iterator

from whoosh.analysis import (Analyzer, CharsetFilter, Filter, LowercaseFilter, RegexTokenizer,
                             StemFilter, StopFilter)
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

# Words joined by hyphens or apostrophes stay one token here; the filters below split them.
TOKEN = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
# French elided articles and pronouns: l'équipe, d'abord, qu'on, jusqu'au, s'il, c'est…
ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’](.+)$")
LANGUAGES = ("en", "fr")


def fold(text: str) -> str:
    """Lowercase without accents, as the index compares words."""
    return text.lower().translate(accent_map)


class ElisionFilter(Filter):
    """l'équipe → équipe; an English possessive (team's) loses its 's."""

    def __call__(self, tokens):
        for t in tokens:
            match = ELISION.match(t.text)
            if match:
                t.text = match.group(1)
            elif t.text.endswith(("'s", "’s")):
                t.text = t.text[:-2]
            yield t


class CompoundFilter(Filter):
    """co-développement → co, développement and codéveloppement, at the same position, so the
    hyphenated, the spaced and the joined spellings all match."""

    def __call__(self, tokens):
        for t in tokens:
            parts = [p for p in re.split(r"[-'’]", t.text) if p]
            if len(parts) < 2:
                yield t
                continue
            joined = "".join(parts)
            position = t.pos if t.positions else None
            for part in parts:
                t.text = part
                yield t
            t.text = joined
            if position is not None:
                t.pos = position
            yield t


def _stopwords(language: str) -> frozenset[str]:
    return frozenset(fold(w) for w in stopwords_for_language(language))


def language_analyzer(language: str | None) -> Analyzer:
    """Fold, split elisions and compounds, drop the language's stop words, stem. ``None``:
    no stemming nor stop words (a language Commons does not stem, and the spelling field)."""
    chain = (RegexTokenizer(TOKEN) | LowercaseFilter() | ElisionFilter() | CompoundFilter()
             | CharsetFilter(accent_map))
    if language is None:
        return chain
    return chain | StopFilter(stoplist=_stopwords(language), minsize=1, renumber=False) | StemFilter(
        lang=language, cachesize=50_000)


def words(text: str) -> Iterator[str]:
    """The folded words of a text, unstemmed (what suggestions are made from)."""
    for token in language_analyzer(None)(text):
        yield token.text
