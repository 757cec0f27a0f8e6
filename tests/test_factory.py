"""The app factory and first run: instance folder, repository, database, seed."""
import subprocess

from commons import create_app
from commons.services import catalog


def test_first_run_creates_instance_and_seeds(tmp_path):
    home = tmp_path / "fresh"
    app = create_app({"COMMONS_HOME": str(home), "SECRET_KEY": "x"})
    inst = app.extensions["commons"]
    assert (home / "content.git" / "HEAD").exists()
    assert (home / "commons.db").exists()
    assert (home / "index").is_dir()
    log = subprocess.run(["git", "--git-dir", str(home / "content.git"), "log", "--format=%B"],
                         capture_output=True, text=True, check=True).stdout
    assert "License: CC-BY-SA-4.0" in log
    with inst.session() as session:
        assert len(catalog.check(session, inst.store, inst.license)) == 0
    # idempotent: a second start changes nothing
    head = inst.store.head()
    app2 = create_app({"COMMONS_HOME": str(home), "SECRET_KEY": "x"})
    assert app2.extensions["commons"].store.head() == head


def test_secret_key_generated_once(tmp_path, monkeypatch):
    monkeypatch.delenv("COMMONS_SECRET_KEY", raising=False)
    home = tmp_path / "k"
    a = create_app({"COMMONS_HOME": str(home), "AUTO_INIT": False})
    b = create_app({"COMMONS_HOME": str(home), "AUTO_INIT": False})
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"]
    assert len(a.config["SECRET_KEY"]) >= 32
    assert oct((home / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_home_page_lists_seeded_practices(client):
    page = client.get("/").get_data(as_text=True)
    assert "Co-development group" in page or "Groupe de co-développement" in page


def test_migrations_build_exactly_the_models_schema(tmp_path):
    """Alembic's migrations and the SQLAlchemy models describe the same schema, and every
    migration can be undone and redone."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from commons import db
    from commons.models import Base

    engine = db.make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    db.upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    command.downgrade(db.alembic_config(engine), "base")
    db.upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
