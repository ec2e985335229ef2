"""Gunicorn for Mawid: `gunicorn -c config/gunicorn.conf.py` from backend/ (the Procfile's `web`).

gthread workers: a few processes, each with a few threads, so a request waiting on PostgreSQL or a provider
doesn't hold a whole process (measured against sync workers and granian in bench/wsgi_servers.py; see
docs/deploy.md). Every value can be changed from the environment or backend/.env (read here too, before the app):

    PORT / MAWID_BIND        where to listen (default 0.0.0.0:$PORT, PORT=8000)
    WEB_CONCURRENCY          worker processes (default: CPUs + 1, at least 2, at most 8)
    MAWID_WEB_THREADS        threads per process (default 4); each thread may hold one database connection
    MAWID_WEB_TIMEOUT        seconds before a stuck worker is killed and replaced (default 30)
    MAWID_WEB_MAX_REQUESTS   recycle a process after this many requests (default 0: never)
    MAWID_ACCESS_LOG         1 to log every request to stdout (default off: the proxy logs them)
    MAWID_GUNICORN_LOG_LEVEL gunicorn's own log level (default info)
    FORWARDED_ALLOW_IPS      proxies whose X-Forwarded-* headers gunicorn trusts (default 127.0.0.1)
    PROMETHEUS_MULTIPROC_DIR /metrics adds up every process (see apps/core/metrics.py)

PORT, WEB_CONCURRENCY and FORWARDED_ALLOW_IPS keep gunicorn's (and the hosting platforms') own names.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# gunicorn puts its working directory (backend/) on the import path before it reads this file.
from config.env import env_bool, env_int, env_str, load_dotenv

load_dotenv()

wsgi_app = "config.wsgi:application"
bind = env_str("MAWID_BIND") or f"0.0.0.0:{env_str('PORT', '8000')}"  # noqa: S104 - behind a proxy
worker_class = "gthread"
workers = env_int("WEB_CONCURRENCY", max(2, min(8, (os.cpu_count() or 1) + 1)))
threads = env_int("MAWID_WEB_THREADS", 4)
timeout = env_int("MAWID_WEB_TIMEOUT", 30)
graceful_timeout = 30
# Seconds an idle keep-alive connection stays open. A proxy reusing upstream connections must drop idle ones sooner
# (nginx `keepalive_timeout` in the upstream block < 5 s), or a request can race gunicorn's close and fail.
keepalive = 5
max_requests = env_int("MAWID_WEB_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
backlog = 2048
# Request line and headers are bounded here; the body by DATA_UPLOAD_MAX_MEMORY_SIZE in Django.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-" if env_bool("MAWID_ACCESS_LOG", False) else None
errorlog = "-"
loglevel = env_str("MAWID_GUNICORN_LOG_LEVEL", "info")
if Path("/dev/shm").is_dir():  # noqa: S108 - heartbeat files in memory, not on a possibly slow disk
    worker_tmp_dir = "/dev/shm"  # noqa: S108
proc_name = "mawid-web"

_PID_FILE = re.compile(r"_(\d+)\.db$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server) -> None:
    """Multiprocess metrics: make the directory, drop files left by processes that no longer exist.

    Files of live processes stay: the job worker on the same machine may share the directory.
    """
    directory = env_str("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for file in path.glob("*.db"):
        match = _PID_FILE.search(file.name)
        if match and not _pid_alive(int(match.group(1))):
            file.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    if env_str("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
