"""Settings and the instance folder.

Everything that is state lives in one instance folder (``COMMONS_HOME``, default ``./instance``):
the content git repository, the SQLite database, the search index and the render cache.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _resource_dir(name: str) -> Path:
    """Installed wheels carry ``templates``/``content`` inside the package; a checkout has them
    at the top level."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


TEMPLATES_DIR = _resource_dir("templates")
CONTENT_DIR = _resource_dir("content")
STATIC_DIR = PACKAGE_DIR / "static"
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"


class SettingError(ValueError):
    """A setting that cannot be understood: the app refuses to start rather than guess."""


def instance_path(explicit: str | os.PathLike | None = None) -> Path:
    return Path(explicit or os.environ.get("COMMONS_HOME") or "instance").resolve()


def secret_key(home: Path) -> str:
    """The environment wins; otherwise a key generated once into the instance folder."""
    from_env = os.environ.get("COMMONS_SECRET_KEY")
    if from_env:
        return from_env
    key_file = home / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def defaults(home: Path) -> dict:
    return {
        "COMMONS_HOME": str(home),
        "CONTENT_REPO": str(home / "content.git"),
        "INDEX_DIR": str(home / "index"),
        "CACHE_DIR": str(home / "cache"),
        "LOCK_FILE": str(home / "write.lock"),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{home / 'commons.db'}",
        "COMMONS_BASE_URL": os.environ.get("COMMONS_BASE_URL", "http://localhost:8000"),
        "LANGUAGES": ["en", "fr"],
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(TRANSLATIONS_DIR),
        "COMMONS_LICENSE": "CC-BY-SA-4.0",
        "WRITE_LOCK_TIMEOUT": 10.0,
        "GIT_HTTP_TIMEOUT": 60,  # seconds a clone or fetch may take (env COMMONS_GIT_HTTP_TIMEOUT)
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "PER_PAGE": 50,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # COMMONS_RATE_LIMITS: "" keeps the defaults of commons/web/ratelimits.py, "off" disables
        "RATE_LIMITS": "",
        "RATE_LIMIT_STORAGE": "memory://",  # per process; redis://host:6379/0 to share
    }


def behind_https(config: dict) -> None:
    """A commons served over HTTPS (its public address says so) sends its cookies only over
    HTTPS and builds https links."""
    if str(config.get("COMMONS_BASE_URL", "")).startswith("https://"):
        config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
