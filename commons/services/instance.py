"""One Commons installation: its content repository, database, render cache and settings.

Built once per process (by the app factory or the CLI) and handed to the services, so tests and
the CLI use exactly what the web app uses.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Mapping

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from .. import db
from ..config import CONTENT_DIR
from . import catalog, licensing, reuse_export, search
from . import practice as doc
from .generation import Generation
from .generation import watch as watch_writes
from .render import RenderCache
from .store import Identity, Store, file_lock

SEED_AUTHOR = Identity("Commons contributors", "commons@users.noreply.commons")


class Instance:
    def __init__(self, config: Mapping) -> None:
        self.config = config
        self.home = Path(config["COMMONS_HOME"])
        self.license = config.get("COMMONS_LICENSE", "CC-BY-SA-4.0")
        # What a practice's ``license`` may be: the commons' licence, and a later BY-SA version
        # if the operator allows one (env COMMONS_LATER_LICENSES); never anything else.
        later = config.get("LATER_LICENSES") or ()
        if isinstance(later, str):  # COMMONS_LATER_LICENSES=CC-BY-SA-5.0,… rather than JSON
            later = [item.strip() for item in later.split(",") if item.strip()]
        self.licenses = licensing.commons_licenses(self.license, tuple(later))
        self.store = Store(config["CONTENT_REPO"], config["LOCK_FILE"],
                           float(config.get("WRITE_LOCK_TIMEOUT", 10.0)))
        self.engine = db.make_engine(config["DATABASE_URL"])
        self.sessions = db.make_sessionmaker(self.engine)
        self.cache = RenderCache(config["CACHE_DIR"])
        # every committed database write replaces this stamp: caches of pages compare it
        self.generation = Generation(config["CACHE_DIR"])
        watch_writes(self.sessions, self.generation)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def is_initialised(self) -> bool:
        return self.store.exists() and inspect(self.engine).has_table("practices")

    def init(self, seed: bool = True) -> list[str]:
        """Create the instance folder, repository and schema, seed the starter practices and
        build the derived tables. Safe to run again: it only does what is missing."""
        self.home.mkdir(parents=True, exist_ok=True)
        # Several gunicorn workers may start at once: one initialises, the others wait.
        with file_lock(self.home / "init.lock", 120):
            return self._init(seed)

    def _init(self, seed: bool) -> list[str]:
        done: list[str] = []
        for key in ("INDEX_DIR", "CACHE_DIR"):
            Path(self.config[key]).mkdir(parents=True, exist_ok=True)
        if not self.store.exists():
            self.store.init()
            done.append(f"created the content repository {self.store.path}")
        db.upgrade(self.engine)
        if seed and self.store.head() is None:
            count = self.seed()
            done.append(f"seeded {count} starter practices")
        # A repository made before Commons wrote its licensing in the REUSE layout.
        if (self.store.head() is not None
                and self.store.read(reuse_export.REUSE_TOML) is None and self.sync_reuse()):
            done.append("added the licence texts and REUSE.toml")
        with self.store.lock(), self.session() as session:
            applied = catalog.catch_up(session, self.store)
            session.flush()
            searched = search.catch_up(self, session)
        if applied:
            done.append(f"indexed {applied} commits")
        if searched:
            done.append(f"built the search index ({searched} practices)")
        return done

    def seed(self, source: Path | None = None) -> int:
        """Commit the starter practices shipped in ``content/practices``."""
        folder = (source or CONTENT_DIR) / doc.PRACTICES_DIR
        files = {}
        for path in sorted(folder.glob("*.md")):
            text = path.read_text(encoding="utf-8")
            doc.parse(text)  # refuse to seed a malformed file
            files[f"{doc.PRACTICES_DIR}/{doc.validate_slug(path.stem)}.md"] = text
        if not files:
            return 0
        reuse_files = reuse_export.files_for(
            {path: reuse_export.license_of(text) for path, text in files.items()}, self.license)
        with self.store.lock():
            self.store.commit({**files, **reuse_files}, author=SEED_AUTHOR,
                              message="Seed the commons with its starter practices",
                              trailers=[("License", self.license)])
        return len(files)

    def sync_reuse(self) -> str | None:
        """Bring ``LICENSES/`` and ``REUSE.toml`` in line with every practice's licence, in one
        commit (None when they already are): the repair for a repository written behind
        Commons' back, run by ``commons init``."""
        with self.store.lock():
            changes = reuse_export.full_sync(self.store, self.license)
            if not changes:
                return None
            return self.store.commit(
                changes, author=SEED_AUTHOR,
                message="Record each practice's licence in the REUSE layout (LICENSES/, "
                        "REUSE.toml)")
