# The gunicorn settings every app of the benchmark runs under (Commons, the hello-world ceiling,
# An Otter Wiki), so the command line is the same for all. Copied from the workplace's peer
# measurement (../shared/bench/gunicorn_conf.py); added: BENCH_CONTROL_SOCKET, because
# gunicorn >= 25 opens a control socket, by default one per user, and two servers (or another
# test's server) on one machine would fight over it.
#   BENCH_BIND            default 127.0.0.1:18100 (loopback only)
#   BENCH_WORKER          sync (default) | gthread
#   BENCH_WORKERS         default 2
#   BENCH_THREADS         default 4 (only used by gthread)
#   BENCH_CONTROL_SOCKET  a path for gunicorn's control socket (gunicorn >= 25 only)
import os

bind = os.environ.get("BENCH_BIND", "127.0.0.1:18100")
if not bind.startswith("127.0.0.1:"):
    raise SystemExit("BENCH_BIND must be a 127.0.0.1 address")
workers = int(os.environ.get("BENCH_WORKERS", "2"))
worker_class = os.environ.get("BENCH_WORKER", "sync")
threads = int(os.environ.get("BENCH_THREADS", "4")) if worker_class == "gthread" else 1
timeout = 120
graceful_timeout = 10
keepalive = 2
preload_app = False
accesslog = None
errorlog = "-"
loglevel = "warning"
if os.environ.get("BENCH_CONTROL_SOCKET"):
    control_socket = os.environ["BENCH_CONTROL_SOCKET"]
