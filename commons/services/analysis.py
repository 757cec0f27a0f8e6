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
_JOINERS = re.compile(r"[-'’]")


def fold(text: str) -> str:
    """Lowercase without accents, as the index compares words."""
    return text.lower().translate(accent_map)


class ElisionFilter(Filter):
    """l'équipe → équipe; an English possessive (team's) loses its 's."""

    def __call__(self, tokens):
        for t in tokens:
            text = t.text
            if "'" in text or "’" in text:  # most words have none: skip the regex
                match = ELISION.match(text)
                if match:
                    t.text = match.group(1)
                elif text.endswith(("'s", "’s")):
                    t.text = text[:-2]
            yield t


class CompoundFilter(Filter):
    """co-développement → co, développement and codéveloppement, at the same position, so the
    hyphenated, the spaced and the joined spellings all match."""

    def __call__(self, tokens):
        for t in tokens:
            text = t.text
            if "-" not in text and "'" not in text and "’" not in text:
                yield t  # most words: nothing to split
                continue
            parts = [p for p in _JOINERS.split(text) if p]
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


class JoinedPairsFilter(Filter):
    """Each word, then each pair of neighbouring words also as one joined word (at the second
    word's place): "Ice Breakers" also gives "icebreakers", so the title is found by
    "icebreaker" as by "ice breaker". Used for titles, which are short."""

    def __call__(self, tokens):
        previous = None
        for t in tokens:
            text = t.text
            yield t
            # only when indexing: a query's words stay as typed, so a phrase still matches
            if t.mode != "query" and previous is not None and previous != text:
                t.text = previous + text
                yield t
                t.text = text
            previous = text


def _stopwords(language: str) -> frozenset[str]:
    """The language's stop words and those of the other language: a query is analysed both
    ways, and the French "pour" or "est" must not match English pages on their own (nor the
    English "how" or "can" French ones)."""
    words = set(stopwords_for_language(language))
    for other in LANGUAGES:
        words |= set(stopwords_for_language(other))
    return frozenset(fold(w) for w in words)


def language_analyzer(language: str | None, *, join_pairs: bool = False) -> Analyzer:
    """Fold, split elisions and compounds, drop the stop words, stem. ``None``: no stemming
    nor stop words (a language Commons does not stem, and the spelling field). ``join_pairs``
    also indexes neighbouring words joined (for titles)."""
    chain = (RegexTokenizer(TOKEN) | LowercaseFilter() | ElisionFilter() | CompoundFilter()
             | CharsetFilter(accent_map))
    if language is not None:
        chain = chain | StopFilter(stoplist=_stopwords(language), minsize=1, renumber=False)
    if join_pairs:
        chain = chain | JoinedPairsFilter()
    if language is not None:
        chain = chain | StemFilter(lang=language, cachesize=50_000)
    return chain


def words(text: str) -> Iterator[str]:
    """The folded words of a text, unstemmed (what suggestions are made from)."""
    for token in language_analyzer(None)(text):
        yield token.text
