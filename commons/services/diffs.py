"""Readable diffs: lines from difflib's SequenceMatcher, and within a changed line, the words
that changed, so a reader sees at a glance what an edit did."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

_WORDS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass
class Segment:
    text: str
    changed: bool = False


@dataclass
class Row:
    kind: str  # "same", "del", "add"
    old_no: int | None
    new_no: int | None
    segments: list[Segment] = field(default_factory=list)


def _word_pair(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(Segment("".join(a[i1:i2])))
            right.append(Segment("".join(b[j1:j2])))
        else:
            if i2 > i1:
                left.append(Segment("".join(a[i1:i2]), True))
            if j2 > j1:
                right.append(Segment("".join(b[j1:j2]), True))
    return left, right


def diff_rows(old_text: str, new_text: str, context: int = 3) -> list[list[Row]]:
    """Hunks of rows (with ``context`` unchanged lines around each change)."""
    old, new = old_text.splitlines(), new_text.splitlines()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    hunks: list[list[Row]] = []
    for group in matcher.get_grouped_opcodes(context):
        rows: list[Row] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [Row("same", i + 1, j + 1, [Segment(old[i])])
                         for i, j in zip(range(i1, i2), range(j1, j2))]
                continue
            dels, adds = old[i1:i2], new[j1:j2]
            left = [[Segment(t, True)] for t in dels]
            right = [[Segment(t, True)] for t in adds]
            # Pair lines that are edits of each other, to show which words changed.
            for k in range(min(len(dels), len(adds))):
                if difflib.SequenceMatcher(None, dels[k], adds[k]).ratio() >= 0.5:
                    left[k], right[k] = _word_pair(dels[k], adds[k])
            rows += [Row("del", i1 + k + 1, None, segs) for k, segs in enumerate(left)]
            rows += [Row("add", None, j1 + k + 1, segs) for k, segs in enumerate(right)]
        hunks.append(rows)
    return hunks


def unified(old_text: str, new_text: str, old_name: str, new_name: str) -> str:
    return "".join(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True),
                                        old_name, new_name))
