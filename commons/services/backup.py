"""Backup and restore: a git bundle of the content repository plus a dump of the database.

Only these two hold anything that cannot be rebuilt: git holds every practice and its history,
the database holds accounts, API tokens and proposals' review state. The search index, the
render cache and the derived tables are rebuilt from git on restore, so they are not saved.

The database is dumped *before* the repository is bundled, without the write lock: git only
ever grows (``main`` is never rewritten), so a bundle taken after the dump holds every revision
the dump refers to, and the derived tables catch up with the few commits made in between.
Writers are never paused, however long the dump takes.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from .. import db
from .instance import Instance

BUNDLE = "content.bundle"
SQLITE_DUMP = "commons.db"
POSTGRES_DUMP = "commons.pgdump"
MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass
class BackupReport:
    folder: Path
    head: str
    database: str
    files: dict[str, int]


def _url(inst: Instance) -> URL:
    return make_url(inst.config["DATABASE_URL"])


def _kind(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "sqlite"
    if url.get_backend_name() in ("postgresql", "postgres"):
        return "postgresql"
    raise BackupError(f"backups know SQLite and PostgreSQL, not {url.get_backend_name()}")


def _pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore`` from the PATH, else Debian's newest versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if candidates:
        return str(candidates[-1])
    raise BackupError(f"{name} is not installed (Debian: apt install postgresql-client)")


def _pg_env(url: URL) -> dict[str, str]:
    """The connection goes through libpq's environment, so the password never appears on a
    command line (where ``ps`` would show it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[key] = str(value)
    return env


def _run(args: list[str], env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(args, capture_output=True, env=env, text=True)
    if proc.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {proc.stderr.strip()}")


def _copy_sqlite(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def backup(inst: Instance, folder: Path) -> BackupReport:
    """Write a backup into ``folder`` (created; it must not hold a backup already)."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: choose a new folder for each backup")
    if not inst.is_initialised() or inst.store.head() is None:
        raise BackupError("this instance has nothing to back up yet (run 'commons init')")
    folder.mkdir(parents=True, exist_ok=True)
    url = _url(inst)
    kind = _kind(url)
    if kind == "sqlite":
        dump = folder / SQLITE_DUMP
        # SQLite's online backup copies a consistent snapshot, even while workers write (WAL).
        _copy_sqlite(Path(url.database), dump)
    else:
        dump = folder / POSTGRES_DUMP
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={dump}"], env=_pg_env(url))
    head = inst.store.write_bundle(folder / BUNDLE)
    files = {path.name: path.stat().st_size for path in (dump, folder / BUNDLE)}
    manifest = {"format": FORMAT, "head": head, "database": kind,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return BackupReport(folder, head, kind, files)


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} holds no Commons backup ({MANIFEST} is missing)") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{path} is damaged: it is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a backup this version of Commons can read")
    return manifest


def _database_is_empty(inst: Instance) -> bool:
    return not inspect(inst.engine).get_table_names()


def restore(inst: Instance, folder: Path) -> list[str]:
    """Restore a backup into an instance that holds nothing yet, then rebuild what is derived.

    Refuses to touch an instance that already has a repository or tables: a restore never
    overwrites anything. Returns what it did, line by line."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    bundle = folder / BUNDLE
    if not bundle.exists():
        raise BackupError(f"{bundle} is missing")
    try:
        inst.store.bundle_head(bundle)
    except ValueError as exc:
        raise BackupError(f"{bundle}: {exc}") from None
    url = _url(inst)
    kind = _kind(url)
    if manifest.get("database") != kind:
        raise BackupError(f"this backup holds a {manifest.get('database')} database but "
                          f"DATABASE_URL points at {kind}: restore it into the same kind")
    dump = folder / (SQLITE_DUMP if kind == "sqlite" else POSTGRES_DUMP)
    if not dump.exists():
        raise BackupError(f"{dump} is missing")
    if inst.store.exists() and inst.store.head() is not None:
        raise BackupError(f"{inst.store.path} already holds a repository: restore into a new, "
                          "empty instance folder (COMMONS_HOME)")
    if not _database_is_empty(inst):
        raise BackupError("the database already has tables: restore into an empty database")
    done = []
    inst.home.mkdir(parents=True, exist_ok=True)
    inst.store.init()
    restored_head = inst.store.load_bundle(bundle)
    done.append(f"restored the repository at {restored_head[:12]}")
    if kind == "sqlite":
        inst.engine.dispose()
        target = Path(url.database)
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(dump, target)
    else:
        _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              f"--dbname={url.database}", str(dump.resolve())], env=_pg_env(url))
    done.append(f"restored the {kind} database")
    db.upgrade(inst.engine)  # a backup from an older Commons gets the newer schema
    done += inst.init(seed=False)  # derived tables and search index catch up with git
    return done
