"""Crash points for the crash tests: a worker that kills itself with SIGKILL at a chosen step.

Test-only. ``COMMONS_FAILPOINTS`` names the points at which a process dies, comma-separated,
each optionally with ``:N`` (die at every Nth hit of that point in this process) or ``:P`` with
0 < P < 1 (die with that probability at each hit)::

    COMMONS_FAILPOINTS=after_git_commit:3           # every 3rd save of each worker dies there
    COMMONS_FAILPOINTS=locked:0.2,after_index:0.2

Unset (production), :func:`hit` is one cached dictionary lookup. The death is a real
``kill -9`` — no exception, no ``finally``, no rollback from Python — so what it leaves behind
is exactly what a crash or the OOM killer leaves behind.
"""
from __future__ import annotations

import functools
import os
import random
import signal
import sys
from collections import Counter

ENV = "COMMONS_FAILPOINTS"
# In the order a save passes them (see editing.commit_one and Store.commit).
POINTS = (
    "locked",             # the write lock is held, nothing written yet
    "before_update_ref",  # git objects written, main not moved
    "after_git_commit",   # main moved, the derived tables not updated
    "after_catalog",      # the derived tables updated (not committed), the index not
    "after_index",        # the index updated, the database session not committed
)

_hits: Counter[str] = Counter()


@functools.lru_cache(maxsize=1)
def plan() -> dict[str, float]:
    """{point: every-Nth (≥ 1) or probability (< 1)} read once from the environment; a name
    that is not a point is an error rather than a crash test that silently never crashes."""
    rules: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in os.environ.get(ENV, "").split(","))):
        name, _, value = item.partition(":")
        if name not in POINTS:
            raise ValueError(f"{ENV}: unknown failpoint {name!r} (known: {', '.join(POINTS)})")
        rule = float(value) if value else 1.0
        if not (0 < rule < 1 or (rule >= 1 and rule == int(rule))):
            raise ValueError(f"{ENV}: {item!r}: give a whole number N ≥ 1 or a probability "
                             "between 0 and 1")
        rules[name] = rule
    return rules


def hit(name: str) -> None:
    """Die here with SIGKILL if ``COMMONS_FAILPOINTS`` says so; otherwise do nothing."""
    rule = plan().get(name)
    if rule is None:
        return
    _hits[name] += 1
    if (rule < 1 and random.random() < rule) or (rule >= 1 and _hits[name] % int(rule) == 0):
        # One line on stderr (the server's log) so a test can count the deaths it caused.
        sys.stderr.write(f"commons failpoint {name}: SIGKILL pid {os.getpid()}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
