#!/usr/bin/env python3
"""Turn a corpus folder (from make_corpus.py) into a fresh git repository.

Copied unchanged (but for this line) from the workplace's peer measurement
(../shared/bench/prepare_git_repo.py); bench/run.py uses it for An Otter Wiki's repository.

  prepare_git_repo.py --corpus DIR --repo DIR [--subdir ""] \
        [--history-slug SLUG --revisions 200]

* wipes and re-creates --repo, copies every *.md of --corpus into
  --repo/--subdir, commits them in one commit;
* if --history-slug is given, makes that page reach --revisions revisions in
  total (1 initial + revisions-1 further commits, each appending a line),
  so history views can be measured on a long page history.
Uses the git CLI only; author/committer and dates are fixed so that the
repository is reproducible.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

ENV = dict(os.environ,
           GIT_AUTHOR_NAME="Bench Bot", GIT_AUTHOR_EMAIL="bench@example.invalid",
           GIT_COMMITTER_NAME="Bench Bot", GIT_COMMITTER_EMAIL="bench@example.invalid",
           GIT_AUTHOR_DATE="2025-01-01T00:00:00Z",
           GIT_COMMITTER_DATE="2025-01-01T00:00:00Z")


def git(repo, *args, env=None):
    subprocess.run(["git", "-C", repo] + list(args), check=True,
                   stdout=subprocess.DEVNULL, env=env or ENV)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--subdir", default="", help="folder inside the repo for the pages")
    ap.add_argument("--history-slug", default=None)
    ap.add_argument("--revisions", type=int, default=200)
    a = ap.parse_args(argv)
    t0 = time.time()
    if os.path.exists(a.repo):
        shutil.rmtree(a.repo)
    dest = os.path.join(a.repo, a.subdir)
    os.makedirs(dest)
    subprocess.run(["git", "init", "-q", "-b", "main", a.repo], check=True)
    git(a.repo, "config", "user.name", "Bench Bot")
    git(a.repo, "config", "user.email", "bench@example.invalid")
    n = 0
    for fn in sorted(os.listdir(a.corpus)):
        if fn.endswith(".md"):
            shutil.copyfile(os.path.join(a.corpus, fn), os.path.join(dest, fn))
            n += 1
    git(a.repo, "add", "-A")
    git(a.repo, "commit", "-q", "-m", "Import %d pages" % n)
    if a.history_slug:
        rel = os.path.join(a.subdir, a.history_slug + ".md")
        path = os.path.join(a.repo, rel)
        if not os.path.exists(path):
            sys.exit("history page %s not in corpus" % rel)
        for i in range(1, a.revisions):
            with open(path, "a", encoding="utf-8") as f:
                f.write("\nRevision %d: the facilitator records one more lesson.\n" % i)
            env = dict(ENV, GIT_AUTHOR_DATE="2025-01-01T00:%02d:%02dZ" % (i // 60 % 60, i % 60),
                       GIT_COMMITTER_DATE="2025-01-01T00:%02d:%02dZ" % (i // 60 % 60, i % 60))
            git(a.repo, "add", rel, env=env)
            git(a.repo, "commit", "-q", "-m", "Edit %d of %s" % (i, a.history_slug), env=env)
    print("repo %s: %d pages, history page %s with %s revisions (%.1fs)"
          % (a.repo, n, a.history_slug, a.revisions if a.history_slug else "-",
             time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
