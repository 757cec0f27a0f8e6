"""Flask hello-world ceiling: every GET returns the same HTML page of BENCH_HELLO_BYTES bytes.

Any path is accepted, so the random-practice wrk script used for page views can be pointed at it
unchanged. Copied from the workplace's peer measurement (../shared/bench/hello_app.py); changed:
the size comes from BENCH_HELLO_BYTES (default 20 KB), so bench/run.py can serve a page of the
same size as Commons' median practice page. Run: gunicorn -c gunicorn_conf.py hello_app:app
"""
import os

from flask import Flask

app = Flask(__name__)

SIZE = int(os.environ.get("BENCH_HELLO_BYTES", str(20 * 1024)))
_para = ("<p>The facilitator writes down the main tension before moving on. "
         "La facilitatrice reformule les objections à tour de rôle.</p>\n")
_body = "".join("<h2>Section %d</h2>\n%s" % (i, _para * 3) for i in range(50))
PAGE = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>Hello</title>"
        "</head><body><h1>Hello ceiling</h1>\n" + _body)
PAGE = PAGE.encode()[:max(0, SIZE - 40)].decode("utf-8", "ignore")
PAGE = PAGE + "<!--" + "x" * max(0, SIZE - len(PAGE.encode()) - 21) + "--></body></html>"


@app.route("/")
@app.route("/<path:anything>")
def hello(anything=None):
    return PAGE
