"""Commits written in-process (:mod:`commons.services.gitobjects`) are the commits git itself
would write: checked against real git plumbing (``update-index``/``write-tree``/
``commit-tree`` on a temporary index) in a real bare repository, object for object."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from commons.services.store import COMMITTER, Identity, Store, format_message


def git(repo: Path, *args: str, input: bytes | None = None, env: dict | None = None) -> str:
    full = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    full.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"})
    full.update(env or {})
    return subprocess.run(["git", "--git-dir", str(repo), *args], input=input, env=full,
                          capture_output=True, check=True).stdout.decode()


def reference_commit(repo: Path, parent: str | None, changes: dict[str, str | None],
                     author: Identity, message: str, when: int, tmp: Path) -> str:
    """What the five-process plumbing wrote before: the commit id git computes."""
    env = {"GIT_INDEX_FILE": str(tmp / "index")}
    if parent:
        git(repo, "read-tree", parent, env=env)
    else:
        git(repo, "read-tree", "--empty", env=env)
    lines = []
    for path, text in changes.items():
        if text is None:
            lines.append(f"0 {'0' * 40}\t{path}")
        else:
            blob = git(repo, "hash-object", "-w", "--stdin", input=text.encode()).strip()
            lines.append(f"100644 {blob}\t{path}")
    git(repo, "update-index", "--index-info", input=("\n".join(lines) + "\n").encode(), env=env)
    tree = git(repo, "write-tree", env=env).strip()
    os.unlink(tmp / "index")
    date = f"{when} +0000"
    ident = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
             "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
             "GIT_COMMITTER_NAME": COMMITTER[0], "GIT_COMMITTER_EMAIL": COMMITTER[1]}
    return git(repo, "commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-",
               input=message.encode(), env=ident).strip()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "content.git")
    s.init()
    return s


STEPS = [
    # (changes, author name) — adds, edits, a nested folder, removals, an unchanged file
    ({"practices/a.md": "A\n", "practices/b.md": "B\n", "REUSE.toml": "x = 1\n",
      "LICENSES/CC-BY-SA-4.0.txt": "licence\n"}, "Ada Lovelace"),
    ({"practices/a.md": "A, edited\n"}, "  Zoë <the> \"Quoted\"  "),
    ({"practices/c.md": "C\n", "practices/b.md": None}, "Ünïcødé, Name;"),
    ({"practices/a.md": "A, edited\n", "practices/deep/er/d.md": "D\n"}, "x"),
    ({"practices/deep/er/d.md": None, "LICENSES/CC-BY-SA-4.0.txt": None}, "Name\nNewline"),
    ({"practices/aa.md": "AA\n", "practices/a-b.md": "AB\n", "practices/a.md": None}, "O'Brien"),
]


def test_commits_are_the_ones_git_writes(store: Store, tmp_path: Path) -> None:
    parent = None
    for i, (changes, name) in enumerate(STEPS):
        author = Identity(name, f"user{i}@users.noreply.commons")
        when = 1_735_689_600 + i
        message = format_message(f"Step {i}", [("License", "CC-BY-SA-4.0")])
        with store.lock():
            made = store.commit(changes, author=author, message=f"Step {i}",
                                trailers=[("License", "CC-BY-SA-4.0")], when=when)
        expected = reference_commit(store.path, parent, changes, author, message, when,
                                    tmp_path)
        assert made == expected, f"step {i}"
        parent = made
    assert store.head() == parent
    git(store.path, "fsck", "--strict", "--no-progress")


def test_the_commit_just_made_is_known_as_git_log_tells_it(store: Store) -> None:
    parent = None
    for i, (changes, name) in enumerate(STEPS):
        with store.lock():
            made = store.commit(changes, author=Identity(name, f"u{i}@example.org"),
                                message=f"Step {i}\n\nwith a body", when=1_700_000_000 + i,
                                trailers=[("Co-authored-by", "B <b@example.org>")])
        if parent is None:
            parent = made
            continue
        known = store.log_range(parent, made)
        from_git = Store(store.path).log_range(parent, made)  # a fresh store asks git
        assert known == from_git, f"step {i}"
        assert store.is_ancestor(parent, made)
        parent = made


def test_nothing_changed_makes_no_commit(store: Store) -> None:
    with store.lock():
        first = store.commit({"practices/a.md": "A\n"}, author=Identity("A", "a@x.org"),
                             message="one")
        assert store.commit({"practices/a.md": "A\n"}, author=Identity("A", "a@x.org"),
                            message="two") is None
        assert store.commit({"practices/gone.md": None}, author=Identity("A", "a@x.org"),
                            message="three") is None
    assert store.head() == first


@pytest.mark.parametrize("path", ["../escape.md", "practices/../x.md", ".git/config",
                                  "practices//x.md", "/abs.md", "practices/.GIT/x"])
def test_paths_git_refuses_are_refused(store: Store, path: str) -> None:
    with store.lock(), pytest.raises(RuntimeError):
        store.commit({path: "x\n"}, author=Identity("A", "a@x.org"), message="bad")
    assert store.head() is None


def test_a_name_of_nothing_but_punctuation_is_refused_as_git_does(store: Store) -> None:
    with store.lock(), pytest.raises(RuntimeError):
        store.commit({"practices/a.md": "A\n"}, author=Identity("", "a@x.org"), message="m")
    assert store.head() is None
