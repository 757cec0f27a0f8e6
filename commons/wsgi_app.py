"""The app object gunicorn imports for ``commons serve`` (the instance comes from COMMONS_HOME)."""
from . import create_app

app = create_app()
