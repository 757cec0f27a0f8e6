"""The app object gunicorn imports for ``commons serve`` (the instance comes from COMMONS_HOME)."""
import gc

from . import create_app

app = create_app()
# Everything built at start-up (modules, templates, the index schema) lives as long as the
# worker: freezing it spares the collector re-scanning it, a pause of tens of milliseconds in
# the middle of a request every few saves.
gc.freeze()
