"""The only door to git.

Reads go through GitPython's persistent ``git cat-file`` (no git process per read); writes are
git plumbing on a temporary index (no working tree to drift), serialised across processes by a
file lock, and published with a compare-and-swap ``update-ref`` so a writer that lost a race can
never overwrite a commit it did not see. Every git call gets explicit identities and no user or
system git configuration.
"""
from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

import git
from gitdb.exc import BadName, BadObject

from ..errors import LockTimeout, NotFound, ValidationError
from . import failpoints, gitobjects

BRANCH = "main"
REF = f"refs/heads/{BRANCH}"
REVISION_RE = re.compile(r"^[0-9a-f]{7,40}$")
FULL_REVISION_RE = re.compile(r"[0-9a-f]{40}")
TRAILER_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.+)$")
COMMITTER = ("Commons", "commons@users.noreply.commons")
HTTP_GIT_PROTOCOL_RE = re.compile(r"version=[0-9](:[a-z0-9=._-]{1,40}){0,4}")
# How long a ``main.lock`` may outlive the writer that died holding our write lock: the git it
# was running finishes on its own in milliseconds; a lock older than this is stale.
REF_LOCK_GRACE = 2.0
MADE_KEPT = 32


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


@dataclass
class HttpReply:
    """A CGI answer: status, headers, and the body as it streams out of the process."""

    status: int
    headers: list[tuple[str, str]]
    body: Iterator[bytes]


@dataclass
class CommitInfo:
    revision: str
    author_name: str
    author_email: str
    timestamp: int
    message: str
    parents: list[str] = field(default_factory=list)
    # (status A/M/D, path, new blob id or None when deleted)
    changes: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def trailers(self) -> dict[str, list[str]]:
        return parse_trailers(self.message)


def parse_trailers(message: str) -> dict[str, list[str]]:
    """Trailers of the message's last paragraph (``Key: value`` lines), as git defines them."""
    paragraphs = message.strip().split("\n\n")
    if len(paragraphs) < 2:
        return {}
    result: dict[str, list[str]] = {}
    for line in paragraphs[-1].splitlines():
        match = TRAILER_RE.match(line.strip())
        if not match:
            return {}
        result.setdefault(match.group(1), []).append(match.group(2).strip())
    return result


def format_message(message: str, trailers: list[tuple[str, str]]) -> str:
    text = message.strip() or "Update"
    if trailers:
        text += "\n\n" + "\n".join(f"{k}: {v}" for k, v in trailers)
    return text + "\n"


def is_full_revision(value: object) -> bool:
    """A whole commit id, as the API hands out and expects back for "the revision you saw"."""
    return isinstance(value, str) and FULL_REVISION_RE.fullmatch(value) is not None


def validate_revision(revision: object) -> str:
    if not isinstance(revision, str) or not REVISION_RE.match(revision):
        raise ValidationError("A revision is a commit id: 7 to 40 lowercase hexadecimal "
                              "characters.", field="revision")
    return revision


@contextlib.contextmanager
def file_lock(path: str | os.PathLike, timeout: float) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``, giving up after ``timeout`` seconds rather than
    letting writers pile up."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise LockTimeout("The commons is busy saving other changes; "
                                      "please try again in a moment.") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class Store:
    """A bare content repository with one branch, ``main``."""

    def __init__(self, path: str | os.PathLike, lock_file: str | os.PathLike | None = None,
                 lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_file = Path(lock_file) if lock_file else self.path / "commons-write.lock"
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        self._trees = gitobjects.TreeWriter(lambda sha: self._read_object(sha, b"tree"),
                                            self.path / "objects")
        self._made: dict[str, CommitInfo] = {}  # the commits this process made, newest last

    # -- set-up -----------------------------------------------------------------------------
    def exists(self) -> bool:
        return (self.path / "HEAD").exists()

    def init(self) -> None:
        """Create the bare repository if missing (idempotent)."""
        if self.exists():
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self._git("init", "--bare", "--quiet", f"--initial-branch={BRANCH}", str(self.path),
                  cwd=self.path.parent)

    @property
    def repo(self) -> git.Repo:
        """GitPython reads objects through one long-lived ``git cat-file --batch`` per thread
        (the process is not shareable between threads)."""
        repo = getattr(self._local, "repo", None)
        if repo is None:
            repo = self._local.repo = git.Repo(self.path)
        return repo

    # -- running git ------------------------------------------------------------------------
    def _env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update({
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            "GIT_COMMITTER_NAME": COMMITTER[0],
            "GIT_COMMITTER_EMAIL": COMMITTER[1],
        })
        if extra:
            env.update(extra)
        return env

    def _git(self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None,
             cwd: str | os.PathLike | None = None, check: bool = True) -> subprocess.CompletedProcess:
        cmd = ["git"]
        if cwd is None:
            cmd += ["--git-dir", str(self.path)]
        proc = subprocess.run(cmd + list(args), input=input, capture_output=True,
                              env=self._env(env), cwd=cwd or self.path)
        if check and proc.returncode != 0:
            raise RuntimeError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace')}")
        return proc

    # -- the write lock ---------------------------------------------------------------------
    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Serialise writers across threads and processes."""
        return file_lock(self.lock_file, self.lock_timeout)

    # -- reading ----------------------------------------------------------------------------
    def head(self) -> str | None:
        """The commit id at the tip of ``main``, or None for an empty repository."""
        ref = self.path / REF
        if ref.exists():
            return ref.read_text().strip() or None
        packed = self.path / "packed-refs"
        if packed.exists():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + REF):
                    return line.split(" ", 1)[0]
        return None

    def _commit(self, revision: str) -> git.Commit:
        validate_revision(revision)
        try:
            obj = self.repo.rev_parse(revision)
        except (BadName, BadObject, ValueError):
            obj = None
        if not isinstance(obj, git.Commit):
            raise NotFound("No revision %(rev)s in the commons.", rev=revision)
        return obj

    def resolve(self, revision: str) -> str:
        """Full commit id of a (possibly abbreviated) revision."""
        return self._commit(revision).hexsha

    def read(self, path: str, revision: str | None = None) -> tuple[str, str] | None:
        """(text, blob id) of ``path`` at ``revision`` (default: head), or None if absent."""
        rev = revision or self.head()
        if rev is None:
            return None
        tree = self._commit(rev).tree
        try:
            blob = tree / path
        except KeyError:
            return None
        return blob.data_stream.read().decode("utf-8"), blob.hexsha

    def read_blob(self, blob_id: str) -> str:
        return self.repo.odb.stream(bytes.fromhex(blob_id)).read().decode("utf-8")

    def list_files(self, directory: str, revision: str | None = None) -> dict[str, str]:
        """{path: blob id} of the files directly in ``directory``."""
        rev = revision or self.head()
        if rev is None:
            return {}
        try:
            tree = self._commit(rev).tree / directory
        except KeyError:
            return {}
        return {f"{directory}/{b.name}": b.hexsha for b in tree.blobs}

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether ``ancestor`` is in ``descendant``'s history; the usual question, "is it
        the commit before?", is answered from the commit object, without a git process."""
        made = self._made.get(descendant)
        if ancestor == descendant or (made is not None and ancestor in made.parents):
            return True
        return self._git("merge-base", "--is-ancestor", ancestor, descendant,
                         check=False).returncode == 0

    # -- writing ----------------------------------------------------------------------------
    def commit(self, changes: Mapping[str, str | None], *, author: Identity, message: str,
               trailers: list[tuple[str, str]] = (), expected_head: str | None = None,
               when: int | None = None, committer: Identity | None = None) -> str | None:
        """Commit ``changes`` ({path: new text, or None to delete}) on top of ``main``.

        Must be called with the lock held. Returns the new commit id, or None when the changes
        leave the tree as it was (no empty commits). ``expected_head`` guards against a head that
        moved under the caller. The committer is Commons itself unless someone else applies the
        author's change (a steward accepting a proposal).
        """
        self._clear_stale_ref_lock()
        parent = self.head()
        if expected_head is not None and parent != expected_head:
            raise RuntimeError("main moved while the write lock was held")
        root = self._tree_of(parent) if parent else None
        try:
            tree, listed, plain = self._trees.write(
                root, {path: None if text is None else text.encode("utf-8")
                       for path, text in changes.items()})
        except ValueError as exc:  # a path git would refuse
            raise RuntimeError(f"git update-index failed: {exc}") from None
        if parent and tree == root:
            return None
        when = int(when or time.time())
        committer = committer or Identity(*COMMITTER)
        text = format_message(message, list(trailers))
        try:
            data = gitobjects.commit_object(
                tree, [parent] if parent else [],
                gitobjects.ident_line(author.name, author.email, when),
                gitobjects.ident_line(committer.name, committer.email, when), text)
        except ValueError as exc:
            raise RuntimeError(f"git commit-tree failed: {exc}") from None
        new = gitobjects.write_object(self.path / "objects", b"commit", data)
        failpoints.hit("before_update_ref")  # crash tests only: a no-op otherwise
        self._git("update-ref", REF, new, parent or "0" * 40)
        if plain:  # what ``git log --raw`` will say of it, so catching up needs no git log
            self._made[new] = CommitInfo(
                new, gitobjects.clean_ident(author.name), gitobjects.clean_ident(author.email),
                when, text.rstrip("\n"), [parent] if parent else [],
                [(c.status, c.path, c.blob) for c in listed])
            while len(self._made) > MADE_KEPT:
                self._made.pop(next(iter(self._made)))
        return new

    def _read_object(self, sha: str, kind: bytes) -> bytes:
        stream = self.repo.odb.stream(bytes.fromhex(sha))
        if stream.type != kind:
            raise ValueError(f"{sha} is a {stream.type.decode()}, not a {kind.decode()}")
        return stream.read()

    def _tree_of(self, revision: str) -> str:
        """The root tree id of a commit, read from the commit object."""
        header = self._read_object(revision, b"commit").split(b"\n", 1)[0]
        if not header.startswith(b"tree "):
            raise ValueError(f"malformed commit {revision}")
        return header[5:].decode("ascii")

    def _clear_stale_ref_lock(self) -> None:
        """Remove a ``refs/heads/main.lock`` left by a git that was killed while moving main;
        git refuses every later update of main while it is there.

        Called with the write lock held, so no living writer of ours is moving main. A worker
        killed while its ``git update-ref`` ran does not take that git with it: the git
        finishes and removes its own lock, so a lock is only taken for stale once it is
        ``REF_LOCK_GRACE`` old. Only this one file is ever removed.
        """
        lock = self.path / f"{REF}.lock"
        while True:
            try:
                age = time.time() - lock.stat().st_mtime
            except FileNotFoundError:
                return
            if age >= REF_LOCK_GRACE:
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                return
            time.sleep(0.01)

    def parents(self, revision: str) -> list[str]:
        """The parents' commit ids (read through ``cat-file``, no git process)."""
        return [parent.hexsha for parent in self._commit(revision).parents]

    # -- history ----------------------------------------------------------------------------
    def log(self, *paths: str, revision: str | None = None, max_count: int | None = None,
            reverse: bool = False) -> list[CommitInfo]:
        """Commits reachable from ``revision`` (default head), newest first, with the files
        each changed. Parsed from NUL/record-separated output, never from prose."""
        rev = revision or self.head()
        if rev is None:
            return []
        args = ["log", "--format=%x1e%H%x1f%an%x1f%ae%x1f%at%x1f%P%x1f%B%x1f", "-z", "--raw",
                "--no-abbrev", "--no-renames"]
        if max_count:
            args.append(f"--max-count={int(max_count)}")
        if reverse:
            args.append("--reverse")
        args += [rev, "--"] + list(paths)
        return self._parse_log(self._git(*args).stdout.decode("utf-8", errors="replace"))

    def log_range(self, since: str, until: str) -> list[CommitInfo]:
        """Commits in ``since..until``, oldest first. The commit this process just made on
        top of ``since`` is known without asking git (what a save catches up with)."""
        made = self._made.get(until)
        if made is not None and made.parents == [since]:
            return [dataclasses.replace(made, parents=list(made.parents),
                                        changes=list(made.changes))]
        args = ["log", "--format=%x1e%H%x1f%an%x1f%ae%x1f%at%x1f%P%x1f%B%x1f", "-z", "--raw",
                "--no-abbrev", "--no-renames", "--reverse", f"{since}..{until}", "--"]
        return self._parse_log(self._git(*args).stdout.decode("utf-8", errors="replace"))

    @staticmethod
    def _parse_log(out: str) -> list[CommitInfo]:
        commits = []
        for record in out.split("\x1e")[1:]:
            sha, name, email, ts, parents, body, rest = record.split("\x1f", 6)
            items = [x.strip("\n") for x in rest.split("\x00")]
            items = [x for x in items if x]
            changes = []
            # --raw -z: ":<old mode> <new mode> <old blob> <new blob> <status>\0<path>\0"
            for i in range(0, len(items) - 1, 2):
                fields = items[i].lstrip(":").split()
                if len(fields) < 5:
                    continue
                status, blob = fields[4][0], fields[3]
                changes.append((status, items[i + 1], None if status == "D" else blob))
            commits.append(CommitInfo(sha, name, email, int(ts), body.rstrip("\n"),
                                      parents.split(), changes))
        return commits

    def diff(self, old: str, new: str, path: str, new_path: str | None = None) -> str:
        """Unified diff text of one file between two revisions."""
        args = ["diff", "--no-color", "--no-ext-diff", f"{old}:{path}", f"{new}:{new_path or path}"]
        return self._git(*args, check=False).stdout.decode("utf-8", errors="replace")

    # -- backup -----------------------------------------------------------------------------
    def write_bundle(self, dest: Path) -> str:
        """Every ref and object in one file (``git bundle``), for a backup; returns the head it
        holds. A bundle is what ``git clone`` and ``git fetch`` read, so a backup can be
        inspected with plain git too."""
        head = self.head()
        if head is None:
            raise RuntimeError("the repository has no commit to back up")
        self._git("bundle", "create", "--quiet", str(Path(dest).resolve()), "--all")
        return head

    def bundle_head(self, source: Path) -> str:
        """The ``main`` a bundle holds, read without a repository (``list-heads``)."""
        out = subprocess.run(["git", "bundle", "list-heads", str(Path(source).resolve())],
                             capture_output=True, env=self._env(), cwd=Path(source).parent)
        for line in out.stdout.decode("ascii", errors="replace").splitlines():
            sha, _, ref = line.partition(" ")
            if ref == f"refs/heads/{BRANCH}" and is_full_revision(sha):
                return sha
        raise ValueError("this file is not a git bundle of a Commons repository "
                         f"(no refs/heads/{BRANCH} in it)")

    def load_bundle(self, source: Path) -> str:
        """Fill a new, empty repository from a bundle, every ref as it was; returns the head."""
        if self.head() is not None:
            raise RuntimeError("the repository is not empty")
        self._git("fetch", "--quiet", str(Path(source).resolve()), "+refs/*:refs/*")
        self._git("fsck", "--no-progress", "--connectivity-only")
        return self.head()

    # -- sharing ----------------------------------------------------------------------------
    def archive_zip(self, revision: str, prefix: str = "") -> bytes:
        """The whole tree at ``revision`` as a zip (``git archive``), for the download."""
        return self._git("archive", "--format=zip", f"--prefix={prefix}",
                         self.resolve(revision)).stdout

    def http_upload_pack(self, action: str, body: bytes = b"", *, content_type: str = "",
                         content_encoding: str = "", git_protocol: str = "",
                         timeout: float = 60.0) -> "HttpReply":
        """Answer a clone or fetch over git's smart HTTP protocol with ``git http-backend``.

        Read-only by construction: only the two upload-pack actions exist, the CGI path is
        built here from the repository's own name (never from the request's), the environment
        is built from scratch, and the process is killed after ``timeout`` seconds.
        """
        if action == "info/refs":
            method, query = "GET", "service=git-upload-pack"
        elif action == "git-upload-pack":
            method, query = "POST", ""
        else:
            raise ValueError(f"not an upload-pack action: {action!r}")
        env = {
            "PATH": os.environ.get("PATH") or os.defpath, "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0", "GATEWAY_INTERFACE": "CGI/1.1",
            "GIT_PROJECT_ROOT": str(self.path.parent), "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{self.path.name}/{action}", "REQUEST_METHOD": method,
            "QUERY_STRING": query, "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
        }
        if content_encoding in ("gzip", "x-gzip"):
            env["HTTP_CONTENT_ENCODING"] = content_encoding
        if HTTP_GIT_PROTOCOL_RE.fullmatch(git_protocol or ""):
            env["HTTP_GIT_PROTOCOL"] = git_protocol  # e.g. version=2
        proc = subprocess.Popen(["git", "http-backend"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                                cwd=self.path)
        timer = threading.Timer(timeout, proc.kill)
        timer.daemon = True
        timer.start()

        def feed() -> None:
            try:
                proc.stdin.write(body)
                proc.stdin.close()
            except OSError:
                pass  # the backend stopped reading (it failed or was killed)

        threading.Thread(target=feed, daemon=True).start()

        def finish() -> None:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.wait()

        status, headers = 200, []
        while True:
            line = proc.stdout.readline()
            if not line:
                finish()
                return HttpReply(504 if proc.returncode == -9 else 500, [], iter(()))
            line = line.rstrip(b"\r\n").decode("latin-1")
            if not line:
                break
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name.strip(), value.strip()))

        def chunks() -> Iterator[bytes]:
            try:
                while True:
                    data = proc.stdout.read1(65536)
                    if not data:
                        break
                    yield data
            finally:
                finish()

        return HttpReply(status, headers, chunks())

    def merge_texts(self, base: str, ours: str, theirs: str,
                    labels: tuple[str, str, str] = ("current", "base", "yours")) -> tuple[str, bool]:
        """Three-way merge with ``git merge-file``: (merged text, clean?)."""
        with tempfile.TemporaryDirectory(prefix="commons-merge-") as tmp:
            files = []
            for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
                p = os.path.join(tmp, name)
                with open(p, "w", encoding="utf-8", newline="") as fh:
                    fh.write(text)
                files.append(p)
            proc = subprocess.run(
                ["git", "merge-file", "-p", "-L", labels[0], "-L", labels[1], "-L", labels[2],
                 *files], capture_output=True, env=self._env(), cwd=tmp)
            if proc.returncode < 0 or proc.returncode > 127:
                raise RuntimeError(proc.stderr.decode(errors="replace"))
            return proc.stdout.decode("utf-8"), proc.returncode == 0
