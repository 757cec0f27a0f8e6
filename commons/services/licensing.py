"""The licence registry: which licences Commons knows, and which may be adapted into its own.

A commons stays open only if nothing enters it that the share-alike licence cannot carry. Each
entry says, for one SPDX id, the licence's name, its legal code, whether it is share-alike, and
whether material under it may be adapted into a CC BY-SA 4.0 work — with the rule's source
beside it, so a steward can check the reasoning rather than trust it. Anything not listed is
refused: an unknown licence is not a licence we can honour.

Sources cited below:

- [BYSA4] CC BY-SA 4.0 legal code, https://creativecommons.org/licenses/by-sa/4.0/legalcode.en
  §3(b)(1): the Adapter's License must be "a Creative Commons license with the same License
  Elements, this version or later, or a BY-SA Compatible License".
- [COMPAT] Creative Commons, "Compatible Licenses",
  https://creativecommons.org/share-your-work/licensing-considerations/compatible-licenses/
  (CC0 and CC BY material may be adapted into BY-SA; BY-SA 4.0 compatible: FAL 1.3, and GPLv3
  one way only, from BY-SA 4.0 to GPLv3).
- [FAQ-VERSIONS] Creative Commons FAQ, "Can I combine material under different Creative Commons
  licenses in my work?", https://creativecommons.org/faq/#can-i-combine-material-under-different-creative-commons-licenses-in-my-work
- [BYSA3] CC BY-SA 3.0 legal code §4(b): an Adaptation may be distributed under "a later version
  of this License with the same License Elements" (likewise BY-SA 2.0 and 2.5 §4(b)),
  https://creativecommons.org/licenses/by-sa/3.0/legalcode
- [BYSA1] CC BY-SA 1.0 legal code §4(b): a Derivative Work only "under the terms of this
  License" — no later version, https://creativecommons.org/licenses/by-sa/1.0/legalcode
- [NC] the NonCommercial clause (e.g. CC BY-NC-SA 4.0 §2(a)(1)) forbids the commercial use that
  CC BY-SA 4.0 §2(a)(1) grants to everyone, https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode.en
- [ND] the NoDerivatives clause (e.g. CC BY-ND 4.0 §2(a)(1)(B)) permits no adapted material to be
  shared, https://creativecommons.org/licenses/by-nd/4.0/legalcode.en
- [ARR] without a licence, copyright law reserves adaptation to the author (Berne Convention
  art. 12), https://www.wipo.int/wipolex/en/text/283698
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError

COMMONS_LICENSE = "CC-BY-SA-4.0"


@dataclass(frozen=True)
class License:
    """One licence, as the registry knows it."""

    id: str
    name: str
    url: str | None
    share_alike: bool
    adaptable: bool  # may material under it be adapted into a CC BY-SA 4.0 work?
    reason_msgid: str  # why (or why not): a msgid with %(id)s / %(name)s placeholders
    source: str        # where the rule comes from
    versionless: bool = False  # a LicenseRef for a page that names no version

    @property
    def reason(self) -> str:
        """The rule, in the request's language (English outside a request)."""
        return translate(self.reason_msgid, id=self.id, name=self.name)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "url": self.url,
                "share_alike": self.share_alike, "adaptable_into_by_sa_4": self.adaptable,
                "versionless": self.versionless, "reason": self.reason, "source": self.source}


def N_(msgid: str) -> str:
    """Mark a msgid for extraction; it is translated when shown."""
    return msgid


def translate(msgid: str, **params: Any) -> str:
    from flask import has_request_context
    if has_request_context():
        from flask_babel import gettext
        return gettext(msgid, **params)
    return msgid % params


NON_COMMERCIAL = N_("%(id)s: the non-commercial clause is incompatible with CC BY-SA 4.0, which "
                    "lets everyone use the work commercially.")


def _cc(kind: str, version: str) -> str:
    return f"https://creativecommons.org/licenses/{kind}/{version}/legalcode"


_BY_NAMES = {"2.0": "Generic", "2.5": "Generic", "3.0": "Unported", "4.0": "International"}


def _entries() -> list[License]:
    entries = [License(
        "CC0-1.0", "CC0 1.0 Universal (public domain dedication)",
        "https://creativecommons.org/publicdomain/zero/1.0/legalcode", False, True,
        N_("%(id)s material is dedicated to the public domain: it may be adapted under any "
           "licence."),
        "[COMPAT] https://creativecommons.org/share-your-work/licensing-considerations/"
        "compatible-licenses/")]
    for version in ("2.0", "2.5", "3.0", "4.0"):
        entries.append(License(
            f"CC-BY-{version}", f"Creative Commons Attribution {version} {_BY_NAMES[version]}",
            _cc("by", version), False, True,
            N_("%(name)s lets adaptations be shared under any licence, with attribution: it may "
               "be adapted into CC BY-SA 4.0."),
            "[COMPAT] https://creativecommons.org/share-your-work/licensing-considerations/"
            "compatible-licenses/"))
    entries.append(License(
        "CC-BY-SA-1.0", "Creative Commons Attribution-ShareAlike 1.0 Generic",
        _cc("by-sa", "1.0"), True, False,
        N_("%(id)s allows adaptations only under BY-SA 1.0 itself (no later version): it "
           "cannot be adapted into CC BY-SA 4.0."),
        "[BYSA1] https://creativecommons.org/licenses/by-sa/1.0/legalcode §4(b)"))
    for version in ("2.0", "2.5", "3.0"):
        entries.append(License(
            f"CC-BY-SA-{version}",
            f"Creative Commons Attribution-ShareAlike {version} {_BY_NAMES[version]}",
            _cc("by-sa", version), True, True,
            N_("%(id)s allows adaptations under a later version with the same licence "
               "elements: it may be adapted into CC BY-SA 4.0."),
            f"[BYSA3] {_cc('by-sa', version)} §4(b)"))
    entries.append(License(
        "CC-BY-SA-4.0", "Creative Commons Attribution-ShareAlike 4.0 International",
        _cc("by-sa", "4.0") + ".en", True, True,
        N_("%(id)s is the commons' own licence."), "[BYSA4] §3(b)(1)"))
    entries.append(License(
        "LAL-1.3", "Licence Art Libre 1.3 (Free Art License)",
        "https://artlibre.org/licence/lal/en/", True, True,
        N_("Creative Commons declared the Free Art License 1.3 compatible with CC BY-SA 4.0: it "
           "may be adapted into CC BY-SA 4.0."),
        "[COMPAT] https://creativecommons.org/share-your-work/licensing-considerations/"
        "compatible-licenses/"))
    entries.append(License(
        "GPL-3.0", "GNU General Public License v3.0",
        "https://www.gnu.org/licenses/gpl-3.0.html", True, False,
        N_("%(id)s: compatible one way only, from CC BY-SA 4.0 to GPL-3.0, so GPL material "
           "cannot be adapted into CC BY-SA 4.0."),
        "[COMPAT] https://creativecommons.org/share-your-work/licensing-considerations/"
        "compatible-licenses/"))
    for version in ("3.0", "4.0"):
        suffix = _BY_NAMES[version]
        for kind, label, sa in (("NC", "NonCommercial", False),
                                ("NC-SA", "NonCommercial-ShareAlike", True)):
            entries.append(License(
                f"CC-BY-{kind}-{version}", f"Creative Commons Attribution-{label} {version} "
                f"{suffix}", _cc(f"by-{kind.lower()}", version), sa, False, NON_COMMERCIAL,
                f"[NC] {_cc('by-' + kind.lower(), version)}"))
        for kind, label in (("ND", "NoDerivatives"), ("NC-ND", "NonCommercial-NoDerivatives")):
            entries.append(License(
                f"CC-BY-{kind}-{version}", f"Creative Commons Attribution-{label} {version} "
                f"{suffix}", _cc(f"by-{kind.lower()}", version), False, False,
                N_("%(id)s: the no-derivatives clause forbids sharing adapted material, and a "
                   "page in the commons is adapted every time someone edits it."),
                f"[ND] {_cc('by-' + kind.lower(), version)}"))
    entries += [
        License(
            "LicenseRef-CC-BY-unversioned", "Creative Commons Attribution (version not stated)",
            "https://creativecommons.org/licenses/by/4.0/legalcode.en", False, True,
            N_("The source says CC BY without a version. Every CC BY version lets adaptations "
               "be shared under any licence with attribution, so it may be adapted into CC "
               "BY-SA 4.0, on the reading that a version from 2.0 on was meant."),
            "[COMPAT], [FAQ-VERSIONS]", versionless=True),
        License(
            "LicenseRef-CC-BY-SA-unversioned",
            "Creative Commons Attribution-ShareAlike (version not stated)",
            "https://creativecommons.org/licenses/by-sa/4.0/legalcode.en", True, True,
            N_("The source says CC BY-SA without a version. BY-SA 2.0 and later allow "
               "adaptations under a later version, so it may be adapted into CC BY-SA 4.0, on "
               "the reading that a version from 2.0 on was meant (BY-SA 1.0 would not allow "
               "it)."),
            "[BYSA3], [FAQ-VERSIONS]", versionless=True),
        License(
            "LicenseRef-CC-BY-NC-SA-unversioned",
            "Creative Commons Attribution-NonCommercial-ShareAlike (version not stated)",
            None, True, False, NON_COMMERCIAL, "[NC]"),
        License(
            "LicenseRef-all-rights-reserved", "All rights reserved (no licence)", None, False,
            False,
            N_("All rights reserved: without a licence, only the author may adapt the work, "
               "so it cannot enter the commons."), "[ARR]"),
    ]
    return entries


REGISTRY: dict[str, License] = {entry.id: entry for entry in _entries()}


def get(license_id: Any) -> License | None:
    return REGISTRY.get(license_id) if isinstance(license_id, str) else None


def all_licenses() -> list[License]:
    return list(REGISTRY.values())


def refusal(license_id: Any) -> str | None:
    """Why material under ``license_id`` cannot be adapted into CC BY-SA 4.0 (None: it can)."""
    entry = get(license_id)
    if entry is None:
        shown = license_id[:80] if isinstance(license_id, str) and license_id else "(none)"
        return translate(N_("%(id)s: not a licence Commons knows, so nobody can tell whether "
                            "it allows adaptation under CC BY-SA 4.0."), id=shown)
    return None if entry.adaptable else entry.reason


_BY_SA_VERSION = re.compile(r"^CC-BY-SA-([0-9]+)\.([0-9]+)$")
# The lowest CC BY-SA version an adaptation may carry, for share-alike licences whose rule
# allows another licence at all: [COMPAT] for the Free Art License, [BYSA3] for an unversioned
# BY-SA read as 2.0 or later.
_BY_SA_FLOOR = {"LAL-1.3": (4, 0), "LicenseRef-CC-BY-SA-unversioned": (2, 0)}


def _by_sa_version(license_id: Any) -> tuple[int, int] | None:
    match = _BY_SA_VERSION.match(license_id) if isinstance(license_id, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def share_alike_refusal(upstream_id: Any, fork_id: Any) -> str | None:
    """Why a fork under ``fork_id`` breaks the share-alike of its upstream under
    ``upstream_id`` (None: it keeps it). An adaptation of share-alike material carries the same
    licence, a later version with the same licence elements, or a licence declared compatible
    ([BYSA4] §3(b)(1), [BYSA3] §4(b))."""
    if upstream_id == fork_id:
        return None
    upstream = get(upstream_id)
    if upstream is None or not upstream.share_alike:
        return None  # nothing share-alike to keep (an unknown licence is reported on its own)
    floor = _BY_SA_FLOOR.get(upstream.id) or (
        _by_sa_version(upstream.id) if upstream.adaptable else None)
    version = _by_sa_version(fork_id)
    if floor is not None and version is not None and version >= floor:
        return None
    shown = fork_id[:80] if isinstance(fork_id, str) and fork_id else "(none)"
    return translate(N_("%(fork)s does not keep the share-alike of %(upstream)s: an adaptation "
                        "carries the same licence, a later version of it, or a licence "
                        "declared compatible (CC BY-SA 4.0 §3(b)(1))."),
                     fork=shown, upstream=upstream.id)


def commons_licenses(config_license: str = COMMONS_LICENSE,
                     later: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The licences a practice may carry in Commons: the configured one (CC BY-SA 4.0) and any
    later BY-SA version the operator allows — a later version keeps the same licence elements,
    which [BYSA4] §3(b)(1) requires of an adaptation, so the commons stays share-alike."""
    return (config_license, *[lid for lid in later if lid.startswith("CC-BY-SA-")
                              and lid != config_license])


def require_commons_license(value: Any, allowed: tuple[str, ...]) -> str:
    """Refuse, with the rule, any ``license`` that would take a practice out of share-alike."""
    if value in allowed:
        return value
    raise ValidationError(
        "A practice in the commons stays under %(allowed)s: share-alike means every version "
        "of it, and every adaptation, keeps the same freedoms (CC BY-SA 4.0 §3(b)). "
        "%(value)s is not allowed.", field="license", allowed=" or ".join(allowed),
        value=str(value)[:80] if value else "(none)")
