"""Hypothesis profiles shared by the property and API fuzzing tests.

``ci`` (the default) keeps the suite fast; ``HYPOTHESIS_PROFILE=long`` runs many more examples
for a deliberate fuzzing session. No example database is written into the checkout: a failing
example is printed by Hypothesis and can be pinned with ``@example``.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "database": None, "print_blob": True,
           "suppress_health_check": (HealthCheck.too_slow,)}

settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("long", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
