"""The family-of-forks SVG: a tidy tree that stays legible when large, escapes every caller string
and ends on cyclic input."""
import random
import threading
import xml.etree.ElementTree as ET

import pytest

from commons.services.family import (BOX_H, BOX_W, COLUMN_PITCH, MARGIN, TITLE_CHARS, FamilyNode,
                                     family_svg, layout)

NS = "{http://www.w3.org/2000/svg}"


def node(slug, *children, **extra):
    return FamilyNode(slug=slug, title=extra.pop("title", slug.title()), url=f"/p/{slug}",
                      children=list(children), **extra)


def parse(svg):
    return ET.fromstring(svg)


def boxes(root_el):
    return [tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))
            for r in root_el.iter(f"{NS}rect")]


def positions(plan):
    return {n.slug: (x, y) for n, x, y in plan.nodes}


def fifty():
    """1 root + 7 children + 42 grandchildren."""
    return node("root", *(node(f"c{i}", *(node(f"c{i}g{j}") for j in range(6)))
                          for i in range(7)))


def random_tree(seed, size):
    """A random mix of depth and breadth: each new node hangs off any earlier one."""
    rng = random.Random(seed)
    made = [node("n0")]
    for i in range(1, size):
        child = node(f"n{i}")
        rng.choice(made).children.append(child)
        made.append(child)
    return made[0]


def test_node_and_edge_counts_match_the_tree():
    tree = node("a", node("b", node("d"), node("e")), node("c"), node("f"))
    svg = parse(family_svg(tree, title="Family"))
    assert len(svg.findall(f".//{NS}a")) == 6
    assert len(svg.findall(f".//{NS}path")) == 5
    assert all(p.get("class") == "edge" for p in svg.iter(f"{NS}path"))
    assert [a.get("href") for a in svg.iter(f"{NS}a")] == [
        "/p/a", "/p/b", "/p/d", "/p/e", "/p/c", "/p/f"]


def test_svg_root_is_labelled_and_sized():
    svg = parse(family_svg(node("a", node("b")), title="Forks of A"))
    assert svg.tag == f"{NS}svg" and svg.get("role") == "group"  # its links stay reachable
    label = svg.find(f"{NS}title")
    assert label is not None and label.text == "Forks of A"
    assert svg.get("aria-labelledby") == label.get("id")
    assert svg.get("viewBox") == f"0 0 {svg.get('width')} {svg.get('height')}"
    assert svg.find(f"{NS}style") is not None
    assert [g.get("class") for g in svg.findall(f"{NS}g")] == ["edges", "nodes"]


def test_depth_three_chain_goes_left_to_right():
    plan = layout(node("a", node("b", node("c", node("d")))))
    pos = positions(plan)
    assert [pos[s][0] for s in "abcd"] == [MARGIN + d * COLUMN_PITCH for d in range(4)]
    assert len({pos[s][1] for s in "abcd"}) == 1
    assert [(p.slug, c.slug) for p, c in plan.edges] == [("a", "b"), ("b", "c"), ("c", "d")]
    assert plan.width == 2 * MARGIN + 3 * COLUMN_PITCH + BOX_W
    assert plan.height == 2 * MARGIN + BOX_H


def test_edges_run_from_parent_right_middle_to_child_left_middle():
    plan = layout(node("a", node("b"), node("c")))
    pos = positions(plan)
    paths = [p.get("d") for p in parse(family_svg(node("a", node("b"), node("c")), title="t"))
             .iter(f"{NS}path")]
    for path, child in zip(paths, "bc"):
        nums = [float(v) for v in path.replace("M", " ").replace("C", " ").split()]
        assert (nums[0], nums[1]) == (pos["a"][0] + BOX_W, pos["a"][1] + BOX_H / 2)
        assert (nums[-2], nums[-1]) == (pos[child][0], pos[child][1] + BOX_H / 2)
        assert "C" in path


def _assert_legible(tree, expected):
    svg = parse(family_svg(tree, title="t"))
    rects = boxes(svg)
    assert len(rects) == expected
    _, _, vw, vh = (float(v) for v in svg.get("viewBox").split())
    for x, y, w, h in rects:
        assert 0 <= x and x + w <= vw and 0 <= y and y + h <= vh
    for i, (x1, y1, w1, h1) in enumerate(rects):
        for x2, y2, w2, h2 in rects[i + 1:]:
            apart = x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
            assert apart, ((x1, y1), (x2, y2))


def test_fifty_nodes_do_not_overlap_and_fit_the_viewbox():
    _assert_legible(fifty(), 50)


@pytest.mark.parametrize("seed", range(5))
def test_random_shapes_do_not_overlap_and_fit_the_viewbox(seed):
    _assert_legible(random_tree(seed, 60), 60)


def test_parent_is_centred_between_first_and_last_child():
    tree = node("r", node("a", node("a1"), node("a2"), node("a3")), node("b"),
                node("c", node("c1", node("c1x"), node("c1y"))))
    pos = positions(layout(tree))
    assert pos["a"][1] == (pos["a1"][1] + pos["a3"][1]) / 2
    assert pos["c1"][1] == (pos["c1x"][1] + pos["c1y"][1]) / 2
    assert pos["c"][1] == pos["c1"][1]
    assert pos["r"][1] == (pos["a"][1] + pos["c"][1]) / 2
    leaves = [pos[s][1] for s in ("a1", "a2", "a3", "b", "c1x", "c1y")]
    assert leaves == sorted(leaves) and len(set(leaves)) == 6


def test_current_node_is_marked():
    tree = node("a", node("b", current=True), node("c"))
    svg = parse(family_svg(tree, title="t"))
    links = {a.get("href"): a for a in svg.iter(f"{NS}a")}
    assert links["/p/b"].get("class") == "node current"
    assert links["/p/b"].get("aria-current") == "page"
    assert [a.get("aria-current") for h, a in links.items() if h != "/p/b"] == [None, None]
    assert {a.get("class") for h, a in links.items() if h != "/p/b"} == {"node"}


def test_long_titles_are_truncated_with_the_full_title_as_tooltip():
    long = "A practice with a remarkably long and descriptive title indeed"
    svg = parse(family_svg(node("a", title=long, note="2 ahead · 1 behind"), title="t"))
    link = svg.find(f".//{NS}a")
    shown, note = [t.text for t in link.findall(f"{NS}text")]
    assert shown.endswith("…") and len(shown) <= TITLE_CHARS and long.startswith(shown[:-1])
    assert link.find(f"{NS}title").text == long
    assert note == "2 ahead · 1 behind"


def test_no_note_means_a_single_text_line():
    svg = parse(family_svg(node("a"), title="t"))
    assert len(svg.find(f".//{NS}a").findall(f"{NS}text")) == 1


def test_user_text_is_escaped_never_markup():
    evil = '<script>alert(1)</script> & "x"'
    tree = FamilyNode(slug='"><script>s</script>', title=evil, url='/p?a=1&b="2"<x>',
                      note="<b>bold</b> & 'q'\x00", current=True,
                      children=[node("b", title=evil)])
    raw = family_svg(tree, title=evil)
    svg = parse(raw)  # well-formed XML or this raises
    assert "<script" not in raw
    assert not [el for el in svg.iter() if el.tag.split("}")[-1] in ("script", "b", "x")]
    assert svg.find(f"{NS}title").text == evil
    link = svg.find(f".//{NS}a")
    assert link.get("href") == '/p?a=1&b="2"<x>'
    assert link.get("data-slug") == '"><script>s</script>'
    assert link.find(f"{NS}title").text == evil
    assert link.findall(f"{NS}text")[1].text == "<b>bold</b> & 'q'"
    assert not [k for el in svg.iter() for k in el.attrib if k.lower().startswith("on")]


def _finishes(fn, seconds=5):
    result = []
    worker = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "looped forever"
    return result[0]


def test_cycles_terminate_and_draw_each_slug_once():
    a, b, c = node("a"), node("b"), node("c")
    a.children = [b, a]
    b.children = [c]
    c.children = [a, b, c]
    svg = parse(_finishes(lambda: family_svg(a, title="t")))
    assert [el.get("data-slug") for el in svg.iter(f"{NS}a")] == ["a", "b", "c"]
    assert len(svg.findall(f".//{NS}path")) == 2


def test_shared_child_is_drawn_once_under_its_first_parent():
    shared = node("s")
    tree = node("r", node("a", shared), node("b", shared, node("s", title="Copy")))
    plan = layout(tree)
    assert [n.slug for n, _, _ in plan.nodes].count("s") == 1
    assert [(p.slug, c.slug) for p, c in plan.edges if c.slug == "s"] == [("a", "s")]


def test_very_deep_chain_does_not_hit_the_recursion_limit():
    root = tip = node("n0")
    for i in range(1, 3000):
        tip.children.append(node(f"n{i}"))
        tip = tip.children[0]
    plan = layout(root)
    assert len(plan.nodes) == 3000 and len(plan.edges) == 2999
