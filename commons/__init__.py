"""Commons: a wiki of practices shared as a knowledge commons."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from . import config as settings

__version__ = "0.1.0"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The only place the app is assembled: config, instance, extensions, blueprints."""
    test_config = dict(test_config or {})
    home = settings.instance_path(test_config.get("COMMONS_HOME"))
    app = Flask(__name__, instance_path=str(home), template_folder=str(settings.TEMPLATES_DIR),
                static_folder=str(settings.STATIC_DIR))
    app.config.update(settings.defaults(home))
    app.config.from_prefixed_env("COMMONS")  # e.g. COMMONS_BASE_URL, COMMONS_PER_PAGE
    app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key(home)
    settings.behind_https(app.config)
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:  # behind a reverse proxy: trust that many X-Forwarded-* hops, no more
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_prefix=hops)

    if app.config.get("PASSWORD_HASH_PROFILE") == "cheapest":
        from .services.accounts import use_cheap_hashing
        use_cheap_hashing()

    from .services.instance import Instance
    instance = Instance(app.config)
    if app.config.get("AUTO_INIT", True):
        instance.init()
    app.extensions["commons"] = instance

    from jinja2 import FileSystemBytecodeCache
    # Compiled templates kept in the cache folder: a new worker loads them instead of
    # compiling every template again on its first page (derived: deleting them is safe).
    jinja_cache = Path(app.config["CACHE_DIR"]) / "jinja"
    jinja_cache.mkdir(parents=True, exist_ok=True)
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(jinja_cache))

    from .web import register
    register(app)
    return app
