"""Rendering: the Markdown features practitioners use, sanitised output, cached by blob id,
links resolved after the cache, and a page view that neither renders nor runs git."""
import subprocess
from html.parser import HTMLParser

import pytest

from commons.services import render

from .conftest import login


def test_features_survive_sanitising():
    html = render.render_markdown(
        "## Étapes\n\n- [ ] préparer\n- [x] inviter\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "Note[^1] ~~old~~\n\n[^1]: la source\n")
    assert '<h2 id="etapes">' in html
    assert 'class="task-list-item-checkbox"' in html and 'checked' in html
    assert "<table>" in html and "<td>1</td>" in html
    assert 'class="footnote-ref"' in html and 'id="fn1"' in html and "la source" in html
    assert "<s>old</s>" in html or "<del>old</del>" in html


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<div onclick="alert(1)" style="background:url(x)">x</div>',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "[x](vbscript:msgbox)",
    '<form action="https://evil.example"><input name="q"></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<style>body{display:none}</style>',
    '<img src=x:alert(alt) onerror=eval(src) alt=0>',
])
def test_hostile_markdown_is_sanitised(source):
    html = render.render_markdown(source)
    tags = TagCollector.collect(html)
    for tag, attrs in tags:
        assert tag not in {"script", "iframe", "style", "form", "object", "embed", "svg"}, html
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", html
            if name in ("href", "src"):
                assert not (value or "").strip().lower().startswith(
                    ("javascript:", "vbscript:", "data:")), html


class TagCollector(HTMLParser):
    @classmethod
    def collect(cls, html):
        parser = cls()
        parser.tags = []
        parser.feed(html)
        return parser.tags

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def test_practice_links_and_wikilinks():
    html = render.render_markdown("[a](co-dev.md) [[co-dev]] [[co-dev|the group]] [[Peer Help]] "
                                  "`[[code]]` [b](https://example.org/x.md)")
    assert html.count('href="/p/co-dev"') == 3
    assert ">the group</a>" in html
    assert 'href="/p/peer-help"' in html
    assert "<code>[[code]]</code>" in html
    assert 'href="https://example.org/x.md"' in html


def test_missing_links_resolved_after_cache():
    html = render.render_markdown("[a](here.md) [b](gone.md)")
    out = render.resolve_links(html, {"here"}, lambda s: f"/p/{s}", lambda s: f"/new?slug={s}",
                               "Create this practice")
    assert 'href="/p/here"' in out
    assert 'href="/new?slug=gone"' in out and 'class="practice-link missing"' in out


def test_render_cache_renders_a_blob_once(tmp_path):
    cache = render.RenderCache(tmp_path)
    calls = []
    blob = "a" * 40
    for _ in range(3):
        html = cache.get(blob, lambda: calls.append(1) or "# Hi")
    assert html.startswith("<h1") and len(calls) == 1
    # a new process (fresh cache object) reads the file, no render
    assert render.RenderCache(tmp_path).get(blob, lambda: calls.append(1) or "") == html
    assert len(calls) == 1


def test_creating_a_practice_fixes_links_everywhere(api, client):
    r = api("post", "/practices", "alice", json={
        "title": "Linker", "body": "See [[retro-board]].", "agree_license": True})
    assert r.status_code == 201, r.get_json()
    page = client.get("/p/linker").get_data(as_text=True)
    assert "/new?slug=retro-board" in page
    api("post", "/practices", "alice", json={"title": "Retro board", "body": "x",
                                             "agree_license": True})
    page = client.get("/p/linker").get_data(as_text=True)
    assert 'href="/p/retro-board"' in page and "/new?slug=retro-board" not in page


def test_page_view_spawns_no_git_and_does_not_render(client, users, inst, monkeypatch):
    """Instrumented, not timed: count processes started and Markdown renders."""
    login(client, "alice")
    urls = ["/p/co-development-group", "/p/groupe-de-co-developpement", "/"]
    for url in urls:  # warm the render cache
        assert client.get(url).status_code == 200
    spawned, rendered = [], []
    real_popen_init = subprocess.Popen.__init__

    def counting_popen(self, *args, **kwargs):
        spawned.append(args[0] if args else kwargs.get("args"))
        return real_popen_init(self, *args, **kwargs)

    real_render = render.render_markdown
    monkeypatch.setattr(subprocess.Popen, "__init__", counting_popen)
    monkeypatch.setattr(render, "render_markdown",
                        lambda text: rendered.append(text) or real_render(text))
    for url in urls:
        assert client.get(url).status_code == 200
    client.get("/logout")
    for url in urls:
        assert client.get(url).status_code == 200
    assert spawned == [] and rendered == []
    # the instrumentation itself works: a git log does spawn, a cold blob does render
    inst.store.log(max_count=1)
    assert spawned
    monkeypatch.setattr(render.RenderCache, "get",
                        lambda self, blob, load: render.render_markdown(load()))
    inst.generation.bump()  # else the page caches answer without reaching the renderer
    client.get("/p/co-development-group")
    assert rendered
