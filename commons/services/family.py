"""A practice's family of forks, drawn as a server-rendered SVG tree.

Server-side so the page needs no JavaScript and reads the same everywhere; standard library only
so it can be tested without an app. The layout is a small tidy tree laid out left to right:
every leaf gets its own row and a parent sits at the midpoint of its first and last child, which
keeps boxes from overlapping however deep or broad the family grows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

SVG_NS = "http://www.w3.org/2000/svg"

BOX_W = 220.0
BOX_H = 44.0
ROW_PITCH = 56.0       # > BOX_H, so rows never touch
COLUMN_PITCH = 270.0   # > BOX_W, leaving room for the edge curves
MARGIN = 16.0
TITLE_CHARS = 30       # what fits in BOX_W at the title's font size, ellipsis included
NOTE_CHARS = 36        # the note's font is smaller

# Characters XML 1.0 forbids even when escaped; dropping them keeps the output well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")

_STYLE = """
.family-tree { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.family-tree .edge { fill: none; stroke: #8a8f98; stroke-width: 1.5; }
.family-tree .node rect { fill: #ffffff; stroke: #8a8f98; stroke-width: 1; }
.family-tree .node:hover rect, .family-tree .node:focus rect { stroke: #1a5fb4; stroke-width: 2; }
.family-tree .node-title { font-size: 13px; fill: #1d1f23; }
.family-tree .node-note { font-size: 11px; fill: #5c6168; }
.family-tree .current rect { fill: #e8f0fe; stroke: #1a5fb4; stroke-width: 2; }
.family-tree .current .node-title { font-weight: 600; }
"""


@dataclass
class FamilyNode:
    """One practice in the family; the caller builds the tree, this module only draws it."""

    slug: str
    title: str
    url: str                      # link target of the node
    note: str = ""                # a short second line, already translated by the caller
    current: bool = False         # the practice being viewed: drawn highlighted
    children: list["FamilyNode"] = field(default_factory=list)


@dataclass
class Layout:
    """Where every box goes, kept apart from drawing so geometry can be tested on its own."""

    nodes: list[tuple[FamilyNode, float, float]]   # node, x, y of its box's top-left
    edges: list[tuple[FamilyNode, FamilyNode]]     # (parent, child)
    width: float
    height: float


def layout(root: FamilyNode) -> Layout:
    """Place each node: column by depth, leaves on consecutive rows, parents centred on children.

    A slug met a second time (a cycle or a shared child) is skipped, so bad input still ends and
    draws every practice once. Iterative throughout, so a very deep chain cannot hit Python's
    recursion limit.
    """
    # Claim each slug the first time a parent lists it, expanding parents in pre-order.
    nodes, depth, kids = [root], [0], [[]]
    seen = {root.slug}
    stack = [0]
    while stack:
        i = stack.pop()
        for child in nodes[i].children:
            if child.slug in seen:
                continue
            seen.add(child.slug)
            kids[i].append(len(nodes))
            nodes.append(child)
            depth.append(depth[i] + 1)
            kids.append([])
        stack.extend(reversed(kids[i]))

    # Post-order: leaves take the next free row, parents the midpoint of first and last child.
    rows = [0.0] * len(nodes)
    preorder: list[int] = []
    next_row = 0
    todo: list[tuple[int, bool]] = [(0, False)]
    while todo:
        i, children_done = todo.pop()
        if not children_done:
            preorder.append(i)
        if not kids[i]:
            rows[i] = float(next_row)
            next_row += 1
        elif children_done:
            rows[i] = (rows[kids[i][0]] + rows[kids[i][-1]]) / 2
        else:
            todo.append((i, True))
            todo.extend((k, False) for k in reversed(kids[i]))

    placed = [(nodes[i], MARGIN + depth[i] * COLUMN_PITCH, MARGIN + rows[i] * ROW_PITCH)
              for i in preorder]
    edges = [(nodes[i], nodes[k]) for i in preorder for k in kids[i]]
    width = 2 * MARGIN + max(depth) * COLUMN_PITCH + BOX_W
    height = 2 * MARGIN + (next_row - 1) * ROW_PITCH + BOX_H
    return Layout(nodes=placed, edges=edges, width=width, height=height)


def family_svg(root: FamilyNode, *, title: str, standalone: bool = True) -> str:
    """The family as a script-free SVG whose boxes link to each practice. ``standalone``
    embeds its style (a downloaded file); inside a page the CSP forbids inline styles and
    commons.css carries the same rules.

    Every caller-supplied string is escaped, so practice titles can never become markup.
    """
    plan = layout(root)
    where = {id(node): (x, y) for node, x, y in plan.nodes}
    title_id = "family-title-" + (_NOT_ID.sub("-", _clean(root.slug)).strip("-") or "root")
    w, h = _num(plan.width), _num(plan.height)

    out = [f'<svg xmlns="{SVG_NS}" role="group" aria-labelledby={quoteattr(title_id)} '
           f'viewBox="0 0 {w} {h}" width="{w}" height="{h}" class="family-tree">',
           f"<title id={quoteattr(title_id)}>{_text(title)}</title>",
           *([f"<style>{_STYLE}</style>"] if standalone else []),
           '<g class="edges">']
    for parent, child in plan.edges:
        px, py = where[id(parent)]
        cx, cy = where[id(child)]
        x1, y1, x2, y2 = px + BOX_W, py + BOX_H / 2, cx, cy + BOX_H / 2
        mid = (x1 + x2) / 2
        out.append(f'<path class="edge" d="M{_num(x1)} {_num(y1)} C{_num(mid)} {_num(y1)} '
                   f'{_num(mid)} {_num(y2)} {_num(x2)} {_num(y2)}"/>')
    out.append("</g>")

    out.append('<g class="nodes">')
    for node, x, y in plan.nodes:
        current = ' class="node current" aria-current="page"' if node.current else ' class="node"'
        out.append(f"<a href={quoteattr(_clean(node.url))}{current} "
                   f"data-slug={quoteattr(_clean(node.slug))}>")
        out.append(f"<title>{_text(node.title)}</title>")
        out.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(BOX_W)}" '
                   f'height="{_num(BOX_H)}" rx="8" ry="8"/>')
        tx = _num(x + 12)
        if node.note:
            out.append(f'<text class="node-title" x="{tx}" y="{_num(y + 19)}">'
                       f"{_text(_clip(node.title, TITLE_CHARS))}</text>")
            out.append(f'<text class="node-note" x="{tx}" y="{_num(y + 35)}">'
                       f"{_text(_clip(node.note, NOTE_CHARS))}</text>")
        else:
            out.append(f'<text class="node-title" x="{tx}" y="{_num(y + BOX_H / 2 + 4.5)}">'
                       f"{_text(_clip(node.title, TITLE_CHARS))}</text>")
        out.append("</a>")
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _clean(value: str) -> str:
    """Drop characters XML cannot carry at all (escaping alone would leave them ill-formed)."""
    return _NOT_XML.sub("", value)


def _text(value: str) -> str:
    """Text content, escaped."""
    return escape(_clean(value))


def _clip(value: str, limit: int) -> str:
    """Shorten to fit a box; the full title stays available in the node's <title> tooltip."""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[:limit - 1].rstrip() + "…"


def _num(value: float) -> str:
    """Compact coordinates: no exponent, no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
