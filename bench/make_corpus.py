#!/usr/bin/env python3
"""Deterministic generator of a corpus of Markdown "practice" pages.

Copied unchanged (but for this line) from the workplace's peer measurement
(../shared/bench/make_corpus.py), so Commons and the peers are measured on the same pages.

Each page is 300-2000 words of mixed English / French prose with headings,
bullet and numbered lists, emphasis and normal Markdown links to other pages
of the corpus.  Output: one <slug>.md file per page in --out.

The same (--seed, -n) always produces byte-identical files, so benchmark
runs on different wikis (peers, and later Commons itself) see the same data.

Search-benchmark helpers (the generator prints how many pages contain each):
  * "retrospective"  common (most pages)
  * "sociocratie"    common French word with an accent-free spelling
  * "fishbowl"       medium (page titles and links)
  * "zeitgeber"      planted in ~1% of pages (rare)
  * "xylophonique"   never appears (no hit)

Usage:
  make_corpus.py --out DIR [-n 1000] [--seed 42] [--front-matter]
                 [--link-template "/{slug}"] [--slugs-file FILE]
"""
import argparse
import os
import random
import sys

EN_ADJ = ["adaptive", "agile", "asynchronous", "candid", "circular", "collective",
          "deliberate", "distributed", "emergent", "fair", "generative", "humble",
          "inclusive", "iterative", "lean", "open", "participatory", "peer",
          "quiet", "radical", "reflective", "silent", "sociocratic", "strategic",
          "structured", "transparent", "visual", "weekly"]
EN_NOUN = ["retrospective", "stand-up", "consent-round", "check-in", "check-out",
           "fishbowl", "world-cafe", "decision-log", "advice-process", "kanban",
           "one-on-one", "pre-mortem", "post-mortem", "fist-to-five", "dot-voting",
           "open-space", "lean-coffee", "role-election", "tension-processing",
           "feedback-loop", "working-agreement", "team-charter", "moving-motivators",
           "delegation-poker", "liberating-structure", "brainstorm", "timebox",
           "okr-review", "demo-day", "pairing-session"]
FR_TITLE = ["atelier", "cercle", "rituel", "revue", "forum", "tour-de-table",
            "conseil", "assemblee", "sprint", "bilan"]

EN_SUBJ = ["The facilitator", "Each participant", "The team", "A volunteer",
           "The group", "Newcomers", "The product owner", "Every circle",
           "The coordinator", "Stakeholders", "The host", "Two pairs"]
EN_VERB = ["writes down", "reviews", "proposes", "clarifies", "summarises",
           "challenges", "time-boxes", "records", "shares", "questions",
           "celebrates", "prioritises", "reflects on", "votes on", "maps"]
EN_OBJ = ["the main tension", "open questions", "the decision log",
          "concrete next steps", "the working agreements", "objections",
          "the backlog", "lessons learned", "the purpose of the meeting",
          "risks and assumptions", "the agenda", "each role's accountabilities",
          "feedback from the last cycle", "the retrospective outcomes",
          "the shared timeline", "a safe-to-try proposal"]
EN_TAIL = ["before moving on", "in under five minutes", "without interruption",
           "on a shared board", "at the end of each round", "in silence first",
           "so that everyone is heard", "using sticky notes",
           "with a clear owner", "for the next iteration", "in plain language",
           "until no objection remains"]

FR_SUBJ = ["La facilitatrice", "Chaque participant", "L'équipe", "Un volontaire",
           "Le groupe", "Les nouveaux arrivants", "Le cercle", "La coordinatrice",
           "Les parties prenantes", "L'hôte de la séance"]
FR_VERB = ["note", "reformule", "propose", "clarifie", "résume", "questionne",
           "célèbre", "priorise", "partage", "consigne", "évalue", "accueille"]
FR_OBJ = ["la tension principale", "les objections", "le registre des décisions",
          "les prochaines étapes", "les accords de travail", "les rôles et redevabilités",
          "le retour d'expérience", "l'ordre du jour", "les risques identifiés",
          "la raison d'être du cercle", "les propositions émergentes",
          "le principe de sociocratie"]
FR_TAIL = ["avant de passer à la suite", "en moins de cinq minutes",
           "sans interruption", "à la fin de chaque tour", "d'abord en silence",
           "pour que chacun soit entendu", "avec des post-it",
           "pour la prochaine itération", "en langage clair",
           "jusqu'à ce qu'aucune objection ne subsiste", "à tour de rôle",
           "dans un esprit de bienveillance"]

SECTIONS_EN = ["Context", "Purpose", "When to use it", "Steps", "Roles",
               "Pitfalls", "Variations", "Examples", "Outcomes", "See also"]
SECTIONS_FR = ["Contexte", "Raison d'être", "Quand l'utiliser", "Étapes", "Rôles",
               "Écueils", "Variantes", "Exemples", "Résultats", "Voir aussi"]
TAGS = ["facilitation", "decision-making", "governance", "feedback", "meetings",
        "sociocracy", "holacracy", "agile", "lean", "coaching", "onboarding",
        "conflict", "strategy", "retrospectives", "remote"]


def make_titles(rng, n):
    """Return n unique (slug, title) pairs."""
    seen = set()
    out = []
    i = 0
    while len(out) < n:
        i += 1
        if rng.random() < 0.2:
            parts = [rng.choice(FR_TITLE), rng.choice(EN_ADJ), rng.choice(EN_NOUN)]
        else:
            parts = [rng.choice(EN_ADJ), rng.choice(EN_NOUN)]
        slug = "-".join(parts)
        if slug in seen:
            slug = "%s-%d" % (slug, i)
        if slug in seen:
            continue
        seen.add(slug)
        title = " ".join(p.replace("-", " ") for p in parts).capitalize()
        out.append((slug, title))
    return out


def sentence(rng, fr):
    if fr:
        s = "%s %s %s %s." % (rng.choice(FR_SUBJ), rng.choice(FR_VERB),
                              rng.choice(FR_OBJ), rng.choice(FR_TAIL))
    else:
        s = "%s %s %s %s." % (rng.choice(EN_SUBJ), rng.choice(EN_VERB),
                              rng.choice(EN_OBJ), rng.choice(EN_TAIL))
    r = rng.random()
    if r < 0.08:
        words = s.split(" ")
        k = rng.randrange(1, len(words))
        words[k] = "**%s**" % words[k]
        s = " ".join(words)
    elif r < 0.14:
        words = s.split(" ")
        k = rng.randrange(1, len(words))
        words[k] = "*%s*" % words[k]
        s = " ".join(words)
    return s


def link(rng, titles, link_template, self_idx):
    j = rng.randrange(len(titles))
    if j == self_idx:
        j = (j + 1) % len(titles)
    slug, title = titles[j]
    return "[%s](%s)" % (title, link_template.format(slug=slug))


def page(rng, idx, titles, link_template, front_matter):
    slug, title = titles[idx]
    # body stops at the first section boundary past target; the last section
    # adds at most ~290 words, so pages stay within 300..2000 words
    target = rng.randint(300, 1700)
    words = 0
    lines = []
    if front_matter:
        tags = rng.sample(TAGS, rng.randint(1, 4))
        lines += ["---",
                  "title: \"%s\"" % title,
                  "slug: %s" % slug,
                  "license: CC-BY-SA-4.0",
                  "lang: %s" % rng.choice(["en", "fr", "en, fr"]),
                  "tags: [%s]" % ", ".join(tags),
                  "authors: [\"user%d\"]" % rng.randint(1, 200),
                  "created: 20%02d-%02d-%02d" % (rng.randint(18, 25),
                                                  rng.randint(1, 12),
                                                  rng.randint(1, 28)),
                  "---", ""]
    lines += ["# %s" % title, ""]
    words += len(title.split())
    # lead paragraph
    lead = " ".join(sentence(rng, rng.random() < 0.4) for _ in range(3))
    lead += " See also %s." % link(rng, titles, link_template, idx)
    lines += [lead, ""]
    words += len(lead.split())
    if rng.random() < 0.01:
        extra = "A rare zeitgeber keeps the rhythm of the circle."
        lines += [extra, ""]
        words += len(extra.split())
    sec = 0
    while words < target:
        fr = rng.random() < 0.4
        name = (SECTIONS_FR if fr else SECTIONS_EN)[sec % len(SECTIONS_EN)]
        sec += 1
        lines += ["## %s" % name, ""]
        words += len(name.split())
        kind = rng.random()
        if kind < 0.25:
            # bullet list with some links
            for _ in range(rng.randint(3, 7)):
                item = sentence(rng, fr)
                if rng.random() < 0.3:
                    item += " " + link(rng, titles, link_template, idx)
                lines.append("- " + item)
                words += len(item.split()) + 1
            lines.append("")
        elif kind < 0.45:
            for k in range(rng.randint(3, 8)):
                item = sentence(rng, fr)
                lines.append("%d. %s" % (k + 1, item))
                words += len(item.split()) + 1
            lines.append("")
        elif kind < 0.50 and words + 40 < target:
            lines += ["| Rôle / Role | Responsabilité / Accountability |",
                      "|---|---|"]
            for _ in range(rng.randint(2, 4)):
                r1 = rng.choice(EN_SUBJ)
                r2 = rng.choice(FR_OBJ)
                lines.append("| %s | %s |" % (r1, r2))
                words += len(r1.split()) + len(r2.split())
            lines.append("")
        # one or two paragraphs of prose per section
        for _ in range(rng.randint(1, 2)):
            n_sent = rng.randint(3, 7)
            para = " ".join(sentence(rng, fr) for _ in range(n_sent))
            if rng.random() < 0.5:
                para += " " + ("Voir aussi" if fr else "Related:") + " " + \
                    link(rng, titles, link_template, idx) + "."
            lines += [para, ""]
            words += len(para.split())
    return slug, "\n".join(lines).rstrip() + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("-n", "--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--front-matter", action="store_true",
                    help="prepend a YAML front matter block to each page")
    ap.add_argument("--link-template", default="/{slug}",
                    help="URL template for inter-page links (default /{slug})")
    ap.add_argument("--slugs-file", default=None,
                    help="also write the list of slugs, one per line, here")
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    titles = make_titles(rng, a.count)
    os.makedirs(a.out, exist_ok=True)
    total_words = 0
    terms = ["retrospective", "sociocratie", "fishbowl", "zeitgeber", "xylophonique"]
    df = dict.fromkeys(terms, 0)
    wmin, wmax = 10**9, 0
    for idx in range(a.count):
        # per-page RNG so that page k is identical for any N >= k... of the
        # same title list; seeded from (seed, idx)
        prng = random.Random("%d:%d" % (a.seed, idx))
        slug, text = page(prng, idx, titles, a.link_template, a.front_matter)
        nw = len(text.split())
        total_words += nw
        wmin, wmax = min(wmin, nw), max(wmax, nw)
        low = text.lower()
        for t in terms:
            df[t] += t in low
        with open(os.path.join(a.out, slug + ".md"), "w", encoding="utf-8") as f:
            f.write(text)
    if a.slugs_file:
        with open(a.slugs_file, "w") as f:
            f.write("\n".join(s for s, _ in titles) + "\n")
    print("wrote %d pages (%d words, avg %.0f, min %d, max %d) to %s"
          % (a.count, total_words, total_words / max(1, a.count), wmin, wmax,
             a.out), file=sys.stderr)
    print("pages containing: " + ", ".join("%s=%d" % (t, df[t]) for t in terms),
          file=sys.stderr)


if __name__ == "__main__":
    main()
