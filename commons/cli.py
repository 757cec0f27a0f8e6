"""The ``commons`` console script: init, serve, user, token, steward, import, attribution, db,
reindex, check, backup, restore."""
from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from .errors import CommonsError


def _app(init: bool = False):
    from . import create_app
    from .config import SettingError
    try:
        return create_app({"AUTO_INIT": init})
    except SettingError as exc:  # a mistyped setting: say which, not a traceback
        raise click.ClickException(str(exc)) from None


def _instance(init: bool = True):
    app = _app(init=init)
    inst = app.extensions["commons"]
    if not init and not inst.is_initialised():
        raise click.ClickException("This instance is not initialised yet: run 'commons init'.")
    return app, inst


def _fail(exc: CommonsError) -> None:
    raise click.ClickException(str(exc))


@contextlib.contextmanager
def _unit(inst) -> Iterator:
    """A database session for one command: committed on success; a domain error ends the
    command with its message (and a non-zero exit) after rolling back."""
    try:
        with inst.session() as session:
            yield session
    except CommonsError as exc:
        _fail(exc)


@click.group()
@click.version_option(package_name="commons-wiki")
def main() -> None:
    """Commons: a wiki of practices shared as a knowledge commons.

    The instance folder is COMMONS_HOME (default ./instance)."""


@main.command()
def init() -> None:
    """Create the instance folder, repository and database, and seed the starter practices
    (safe to run again)."""
    inst = _app().extensions["commons"]
    done = inst.init()
    if inst.store.head() is not None and inst.sync_reuse():
        done.append("brought LICENSES/ and REUSE.toml in line with the practices' licences")
    for line in done or ["already initialised, nothing to do"]:
        click.echo(line)
    click.echo(f"Instance folder: {inst.home}")
    click.echo("Create the first administrator with:\n"
               f"  {_this_command()} user add NAME --email you@example.org --role admin")


def _this_command() -> str:
    """How to call this CLI again from another terminal: the full path of the script that is
    running (usually ``.venv/bin/commons``, not on the PATH), else plain ``commons``."""
    script = Path(sys.argv[0])
    if script.name == "commons" and script.exists():
        return shlex.quote(str(script.resolve()))
    return "commons"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int,
              help="gunicorn worker processes")
def serve(host: str, port: int, workers: int) -> None:
    """Run the wiki with gunicorn (initialising the instance first if needed)."""
    app = _app()
    inst = app.extensions["commons"]
    inst.init()
    home = str(inst.home)
    click.echo(f"Commons is running at http://{host}:{port}/  (instance: {home})")
    with app.app_context():
        from sqlalchemy import func, select

        from .models import User
        with inst.session() as session:
            admins = session.scalar(select(func.count()).select_from(User)
                                    .where(User.role == "admin")) or 0
    if not admins:
        click.echo("No administrator yet. In another terminal, run:\n"
                   f"  COMMONS_HOME={shlex.quote(home)} {_this_command()} user add NAME "
                   "--email you@example.org --role admin")
    os.environ["COMMONS_HOME"] = home
    args = [sys.executable, "-m", "gunicorn", "--workers", str(max(1, workers)),
            "--bind", f"{host}:{port}", "--access-logfile", "-"]
    from gunicorn.config import KNOWN_SETTINGS
    if any(setting.name == "control_socket" for setting in KNOWN_SETTINGS):
        # gunicorn ≥ 25 opens a control socket, by default one per user: two instances on
        # one machine would fight over it, so each instance keeps its own.
        args += ["--control-socket", os.path.join(home, "gunicorn.ctl")]
    args.append("commons.wsgi_app:app")
    os.execv(sys.executable, args)


@main.group()
def user() -> None:
    """Manage accounts."""


@user.command("add")
@click.argument("name")
@click.option("--email", default=None)
@click.option("--display-name", default=None)
@click.option("--password", default=None, help="prompted for when omitted")
@click.option("--role", type=click.Choice(["contributor", "admin"]), default="contributor",
              show_default=True)
def user_add(name: str, email: str | None, display_name: str | None, password: str | None,
             role: str) -> None:
    """Create an account."""
    from .services import accounts
    _app_, inst = _instance()
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _unit(inst) as session:
        accounts.create_user(session, name, password, display_name=display_name,
                             email=email, role=role)
    click.echo(f"Created {role} {name}.")


@user.command("passwd")
@click.argument("name")
@click.option("--password", default=None, help="prompted for when omitted")
def user_passwd(name: str, password: str | None) -> None:
    """Set a new password for an account (admin reset)."""
    from .services import accounts
    _app_, inst = _instance()
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _unit(inst) as session:
        accounts.set_password(accounts.require_user(session, name), password)
    click.echo(f"Password of {name} changed.")


@user.command("block")
@click.argument("name")
@click.option("--reason", required=True, help="one line, shown to the person")
@click.option("--admin", "include_admin", is_flag=True,
              help="confirm blocking an administrator's account")
def user_block(name: str, reason: str, include_admin: bool) -> None:
    """Block an account: it can sign in and read, but not write; its API tokens are refused."""
    from .services import moderation
    _app_, inst = _instance()
    with _unit(inst) as session:
        moderation.block_account(inst, session, None, name, reason=reason,
                                 include_admin=include_admin, operator=True)
    click.echo(f"Blocked {name}.")


@user.command("unblock")
@click.argument("name")
def user_unblock(name: str) -> None:
    """Unblock an account."""
    from .services import moderation
    _app_, inst = _instance()
    with _unit(inst) as session:
        moderation.unblock_account(inst, session, None, name, operator=True)
    click.echo(f"Unblocked {name}.")


@main.group()
def moderate() -> None:
    """Undo an account's changes."""


@moderate.command("revert")
@click.argument("name")
@click.option("--since", required=True, help="a date (2026-03-01, UTC) or an ISO date and time")
@click.option("--reason", required=True, help="one line: in the commit, and for the proposals "
                                                "declined and practices removed")
def moderate_revert(name: str, since: str, reason: str) -> None:
    """Revert every change NAME made since a date, in one commit; practices NAME created are
    removed, its open proposals declined. Exits 1 if some practices need a person's look."""
    from .services import moderation
    _app_, inst = _instance()
    with _unit(inst) as session:
        report = moderation.revert_since(inst, session, None, name, since=since,
                                         reason=reason, agree_license=True, operator=True)
    click.echo(f"Commit: {report.revision or 'none (nothing to undo)'}")
    for slug in report.reverted:
        click.echo(f"reverted  {slug}")
    for slug in report.removed:
        click.echo(f"removed   {slug}")
    for slug, why in report.manual:
        click.echo(f"left for manual review  {slug}: {why}")
    for number in report.declined:
        click.echo(f"declined proposal {number}")
    sys.exit(1 if report.manual else 0)


@main.group()
def practice() -> None:
    """Remove and restore practices."""


@practice.command("remove")
@click.argument("slug")
@click.option("--reason", required=True, help="one line, shown on the practice's page")
def practice_remove(slug: str, reason: str) -> None:
    """Remove SLUG: a commit deleting it; its page then says why (410 Gone)."""
    from .services import moderation
    _app_, inst = _instance()
    with _unit(inst) as session:
        moderation.remove_practice(inst, session, None, slug, reason=reason, operator=True)
    click.echo(f"Removed {slug}.")


@practice.command("restore")
@click.argument("slug")
def practice_restore(slug: str) -> None:
    """Bring a removed practice back with its last text."""
    from .services import moderation
    _app_, inst = _instance()
    with _unit(inst) as session:
        result = moderation.restore_practice(inst, session, None, slug, agree_license=True,
                                             operator=True)
    click.echo(f"Restored {slug} at {result.revision}.")


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("name")
@click.option("--label", default="cli", help="a note to recognise the token by")
def token_create(name: str, label: str) -> None:
    """Print a new API token for NAME, alone on stdout."""
    from .services import accounts
    _app_, inst = _instance()
    with _unit(inst) as session:
        value = accounts.create_token(session, accounts.require_user(session, name), label)
    click.echo(value)


@main.group()
def steward() -> None:
    """Manage practices' stewards."""


@steward.command("add")
@click.argument("slug")
@click.argument("username")
def steward_add(slug: str, username: str) -> None:
    """Make USERNAME a steward of SLUG (committed to the practice's front matter)."""
    from .services import editing
    from .services.instance import SEED_AUTHOR
    _app_, inst = _instance()
    with _unit(inst) as session:
        result = editing.add_steward(inst, session, None, slug, username,
                                     agree_license=True, author=SEED_AUTHOR)
    click.echo(f"{username} is a steward of {slug}." if result.changed
               else f"{username} was already a steward of {slug}.")


@main.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--agree-license", is_flag=True,
              help="release the imported practices under the commons licence (required)")
@click.option("--as", "as_user", default=None, metavar="USERNAME",
              help="author and first steward of the imports (default: 'Commons import')")
def import_(path: Path, agree_license: bool, as_user: str | None) -> None:
    """Import practices from a Markdown file, a folder or a zip, checking each licence.

    One line per file: accepted, updated, unchanged or refused (with the reason). Exits 1 if
    any file was refused, 2 on a usage error."""
    from .services import accounts, importer
    if not agree_license:
        raise click.UsageError("Importing commits to the commons: add --agree-license to "
                               "release the imported practices under CC BY-SA 4.0 (the "
                               "licence each source allows is checked file by file).")
    _app_, inst = _instance()
    refused = 0
    with inst.session() as session:
        try:
            user = accounts.require_user(session, as_user) if as_user else None
            sources = importer.read_sources(path)
        except CommonsError as exc:
            raise click.UsageError(str(exc)) from None
        for source in sources:
            outcome = importer.import_one(inst, session, user, source, agree_license=True,
                                          operator=True)
            refused += outcome.status == "refused"
            click.echo(outcome.line())
    sys.exit(1 if refused else 0)


@main.group()
def attribution() -> None:
    """Practices' attribution (CC BY-SA 4.0 §3(a))."""


@attribution.command("remove")
@click.argument("slug")
@click.argument("name")
def attribution_remove(slug: str, name: str) -> None:
    """Leave NAME (a username or a name as credited) out of SLUG's attribution, as §3(a)(3)
    lets an author ask (committed to the practice's front matter)."""
    from .services import attribution as attributions
    from .services.instance import SEED_AUTHOR
    _app_, inst = _instance()
    with _unit(inst) as session:
        result = attributions.remove_from_attribution(inst, session, None, slug, name,
                                                      agree_license=True,
                                                      author=SEED_AUTHOR)
    click.echo(f"{name} is no longer in the attribution of {slug}." if result.changed
               else f"{name} was already left out of the attribution of {slug}.")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations."""
    from . import db as database
    database.upgrade(_app().extensions["commons"].engine)
    click.echo("Database is up to date.")


@main.command()
def reindex() -> None:
    """Rebuild every derived table and the search index from git."""
    import time

    from .services import catalog, search
    _app_, inst = _instance()
    started = time.perf_counter()
    with inst.store.lock(), inst.session() as session:
        count = catalog.rebuild(session, inst.store)
        session.flush()
        middle = time.perf_counter()
        indexed = search.rebuild(inst, session, procs=min(2, os.cpu_count() or 1))
    click.echo(f"Rebuilt derived data from {count} commits in {middle - started:.1f} s, "
               f"and the search index of {indexed} practices in "
               f"{time.perf_counter() - middle:.1f} s.")


@main.command()
def check() -> None:
    """Verify that the repository, the database and derived data agree."""
    from .services import catalog, search
    _app_, inst = _instance(init=False)
    with inst.session() as session:
        problems = catalog.check(session, inst.store, inst.license, inst.licenses)
        problems += search.check(inst, session)
    for line in problems:
        click.echo(line)
    if problems:
        sys.exit(1)
    click.echo("All consistent.", err=True)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup(folder: Path) -> None:
    """Back up the instance into FOLDER: a git bundle of the practices and a dump of the
    database (accounts, tokens, proposals). Runs while the wiki serves; writers never wait."""
    from .services import backup as backups
    _app_, inst = _instance(init=False)
    try:
        report = backups.backup(inst, folder)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    for name, size in report.files.items():
        click.echo(f"{folder / name}  {size:,} bytes")
    click.echo(f"Backed up {report.database} database and repository at {report.head[:12]}.")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore(folder: Path) -> None:
    """Restore a backup made by 'commons backup' into a new, empty instance (COMMONS_HOME and
    DATABASE_URL), then rebuild the search index and derived data from git."""
    from .services import backup as backups
    inst = _app().extensions["commons"]
    try:
        done = backups.restore(inst, folder)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    for line in done:
        click.echo(line)
    click.echo("Restored. Run 'commons check' to verify.")
