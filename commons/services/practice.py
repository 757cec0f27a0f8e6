"""The practice document: YAML front matter + Markdown, slugs and the new-practice template.

A practice is ``practices/<slug>.md``. Front matter that did not change is written back byte for
byte (its original text is kept), so a body edit never produces a noisy front matter diff; keys
Commons does not know are preserved.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from unidecode import unidecode

from ..errors import ValidationError

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 80
TAG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")
FRONT_MATTER_MAX = 64 * 1024
BODY_MAX = 512 * 1024
PRACTICES_DIR = "practices"

# Known keys, in the order a freshly written front matter uses; unknown keys follow.
KEY_ORDER = ("title", "summary", "language", "tags", "license", "stewards", "translations",
             "forked_from", "source", "credits")


class _StrictLoader(yaml.SafeLoader):
    """Safe loading without anchors/aliases: front matter never needs them, and refusing them
    shuts the door on billion-laughs expansions."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError("while composing", None, "aliases are not allowed",
                                       event.start_mark)
        return super().compose_node(parent, index)


def slugify(title: str) -> str:
    """``"Co-développement"`` → ``"co-developpement"``; empty when nothing usable remains."""
    ascii_text = unidecode(title or "").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0] if "-" in slug[:SLUG_MAX] else slug[:SLUG_MAX]
    return slug.strip("-")


def is_valid_slug(slug: Any) -> bool:
    return isinstance(slug, str) and 0 < len(slug) <= SLUG_MAX and bool(SLUG_RE.match(slug))


def validate_slug(slug: Any) -> str:
    if not is_valid_slug(slug):
        raise ValidationError(
            "A slug is 1 to 80 lowercase ASCII letters, digits and single hyphens "
            "(for example co-development-group).", field="slug")
    return slug


def path_for(slug: str) -> str:
    return f"{PRACTICES_DIR}/{validate_slug(slug)}.md"


def slug_from_path(path: str) -> str | None:
    if path.startswith(PRACTICES_DIR + "/") and path.endswith(".md"):
        slug = path[len(PRACTICES_DIR) + 1:-3]
        if is_valid_slug(slug):
            return slug
    return None


@dataclass
class Practice:
    """A parsed practice. ``meta`` is the front matter mapping; ``raw_front_matter`` the text it
    was read from (None for a new document)."""

    meta: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    raw_front_matter: str | None = None
    _original_meta: dict[str, Any] | None = None

    # Convenience accessors with the defaults the rest of the code relies on.
    @property
    def title(self) -> str:
        return str(self.meta.get("title") or "")

    @property
    def summary(self) -> str:
        return str(self.meta.get("summary") or "")

    @property
    def language(self) -> str:
        return str(self.meta.get("language") or "en")

    @property
    def tags(self) -> list[str]:
        return [str(t) for t in self.meta.get("tags") or []]

    @property
    def license(self) -> str:
        return str(self.meta.get("license") or "")

    @property
    def stewards(self) -> list[str]:
        return [str(s) for s in self.meta.get("stewards") or []]

    @property
    def translations(self) -> dict[str, str]:
        value = self.meta.get("translations") or {}
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    def copy(self) -> "Practice":
        return Practice(copy.deepcopy(self.meta), self.body, self.raw_front_matter,
                        copy.deepcopy(self._original_meta))


_FRONT_MATTER_RE = re.compile(r"\A---\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _load_yaml(raw: str) -> Any:
    """LibYAML's C loader (ten times faster: ``commons reindex`` parses every revision) when
    the text cannot hold an anchor or an alias (no ``&``, no ``*``), which that loader cannot
    be told to refuse; the strict pure-Python loader otherwise, and again for any error, so a
    refusal reads the same either way."""
    if _FAST_LOADER is not None and "&" not in raw and "*" not in raw:
        try:
            return yaml.load(raw, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.load(raw, Loader=_StrictLoader)


def parse(text: str) -> Practice:
    """Split and parse a practice file; raises ValidationError on malformed front matter."""
    if "\x00" in text:
        raise ValidationError("The document contains a NUL byte.")
    if not text.startswith("---"):
        return Practice({}, text, None, None)
    match = _FRONT_MATTER_RE.match(text)
    if not match:
        raise ValidationError("The front matter is not closed by a line '---'.")
    raw = match.group(1)
    if len(raw) > FRONT_MATTER_MAX:
        raise ValidationError("The front matter is too long.")
    body = text[match.end():]
    try:
        meta = _load_yaml(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        raise ValidationError("The front matter is not valid YAML: %(error)s",
                              error=first_line) from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ValidationError("The front matter must be a mapping of keys to values.")
    return Practice(meta, body, raw, copy.deepcopy(meta))


class _Dumper(yaml.SafeDumper):
    """Safe dumping, except that a string holding U+0085 (NEL) is double-quoted: PyYAML writes
    it raw in a plain or single-quoted scalar, where its own loader reads it as a line break
    folded into a space, so the value would not survive a round-trip (found by Hypothesis)."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data,
                                   style='"' if "\x85" in data else None)


_Dumper.add_representer(str, _represent_str)


def _dump(meta: dict[str, Any]) -> str:
    ordered = {k: meta[k] for k in KEY_ORDER if k in meta}
    ordered.update({k: v for k, v in meta.items() if k not in ordered})
    return yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=None, width=1000)


def serialize(practice: Practice) -> str:
    """The file text; unchanged front matter keeps its original bytes."""
    if practice.raw_front_matter is not None and practice.meta == practice._original_meta:
        raw = practice.raw_front_matter
    else:
        raw = _dump(practice.meta)
    body = practice.body
    if body and not body.endswith("\n"):
        body += "\n"
    return f"---\n{raw}---\n{body}"


def normalise_tags(tags: Any) -> list[str]:
    """Accept a list or a comma-separated string; tags become lowercase hyphenated words."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,\n]", tags)]
    if not isinstance(tags, list):
        raise ValidationError("Tags must be a list of words.", field="tags")
    result: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ValidationError("Tags must be a list of words.", field="tags")
        norm = slugify(tag)
        if not norm:
            continue
        if len(norm) > 40:
            raise ValidationError("A tag is at most 40 characters.", field="tags")
        if norm not in result:
            result.append(norm)
    if len(result) > 20:
        raise ValidationError("A practice has at most 20 tags.", field="tags")
    return result


def validate_fields(title: Any, summary: Any, language: Any, body: Any) -> None:
    if not isinstance(title, str) or not title.strip():
        raise ValidationError("A practice needs a title.", field="title")
    if len(title) > 200 or "\n" in title or "\r" in title:
        raise ValidationError("A title is one line of at most 200 characters.", field="title")
    if summary is not None and (not isinstance(summary, str) or len(summary) > 500):
        raise ValidationError("A summary is at most 500 characters.", field="summary")
    if not isinstance(language, str) or not LANG_RE.match(language):
        raise ValidationError("The language is a two-letter code such as en or fr.",
                              field="language")
    if not isinstance(body, str):
        raise ValidationError("The body must be text.", field="body")
    if len(body.encode("utf-8", "surrogatepass")) > BODY_MAX:
        raise ValidationError("The practice is too long (at most 512 KB).", field="body")
    for value in (title, summary or "", body):
        if "\x00" in value:
            raise ValidationError("The text contains a NUL byte.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError("The text is not valid UTF-8.") from exc


TEMPLATE_SECTIONS = {
    "en": ["Why", "When to use", "How (steps)", "Duration and group size", "Roles",
           "Variations", "Pitfalls", "Sources"],
    "fr": ["Pourquoi", "Quand l'utiliser", "Comment (étapes)", "Durée et taille du groupe",
           "Rôles", "Variantes", "Pièges", "Sources"],
}
TEMPLATE_HINTS = {
    "en": ["What need does this practice answer? What does it change for people?",
           "The situations where it helps, and where it does not.",
           "1. First step\n2. Second step\n3. Third step",
           "How long it takes, how often, and for how many people.",
           "Who does what: facilitator, participants, timekeeper…",
           "Adaptations you have seen work (remote, large groups, short on time…).",
           "What goes wrong, and how to avoid it.",
           "Where this practice comes from: books, people, organisations."],
    "fr": ["À quel besoin répond cette pratique ? Que change-t-elle pour les personnes ?",
           "Les situations où elle aide, et celles où elle n'aide pas.",
           "1. Première étape\n2. Deuxième étape\n3. Troisième étape",
           "Combien de temps, à quelle fréquence, pour combien de personnes.",
           "Qui fait quoi : facilitateur, participants, gardien du temps…",
           "Les adaptations qui ont fait leurs preuves (à distance, grands groupes, peu de temps…).",
           "Ce qui tourne mal, et comment l'éviter.",
           "D'où vient cette pratique : livres, personnes, organisations."],
}


def template_body(language: str) -> str:
    """The sections practitioners expect, in the UI language (English when unknown)."""
    lang = language if language in TEMPLATE_SECTIONS else "en"
    parts = [f"## {head}\n\n{hint}\n" for head, hint in
             zip(TEMPLATE_SECTIONS[lang], TEMPLATE_HINTS[lang])]
    return "\n".join(parts)
