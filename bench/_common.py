"""What every benchmark script shares: where PostgreSQL is, throwaway databases, Django, processes, percentiles.

Each benchmark creates its own database on the server the project uses and drops it at the end, so benchmarks
never touch development data. The server is named by `MAWID_BENCH_DATABASE_URL`, else `DATABASE_URL`, else the
embedded PostgreSQL (started if needed); only the server counts, the database in that URL is replaced.

One definition of each helper lives here (backend/apps/core/tests/test_bench_common.py tests the database URL
and the percentile); the scripts import them with `from _common import ...` (their own directory is on sys.path
when run as `.venv/bin/python bench/NAME.py`).
"""

from __future__ import annotations

import contextlib
import http.client
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BACKEND = ROOT / "backend"
PY = Path(sys.executable)  # the project's venv interpreter, the scripts are run with it
BIN = PY.parent
if str(BACKEND) not in sys.path:  # `config.*` and `apps.*` for the scripts that run Django in-process
    sys.path.insert(0, str(BACKEND))


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


# --- percentiles ----------------------------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (q from 0 to 1) by the nearest-rank method: the smallest value with at least a fraction q
    of all values at or below it, i.e. the ceil(q * n)-th smallest (the smallest for q = 0).

    Always one of the measured values, never an interpolation: p50 of [1, 2, 3, 4] is 2, p95 of 20 values is the
    19th, p99 of fewer than 100 values is the largest. No values: ValueError (there is no percentile to print).
    """
    if not 0 <= q <= 1:
        raise ValueError(f"a quantile is between 0 and 1, not {q!r}")
    if not values:
        raise ValueError("no values: no percentile")
    ordered = sorted(values)
    rank = math.ceil(round(q * len(ordered), 9))  # round: 0.07 * 100 is 7.000000000000001, rank 7, not 8
    return ordered[max(rank, 1) - 1]


# --- the database server and throwaway databases ----------------------------------------------------------------


def server_url() -> str:
    """A URL for the PostgreSQL server to use (any database on it): MAWID_BENCH_DATABASE_URL (the old name
    BENCH_DATABASE_URL still works, with a warning), DATABASE_URL, or the embedded server (started if needed)."""
    from config.env import env_str  # standard library only

    url = env_str("MAWID_BENCH_DATABASE_URL", "", old=("BENCH_DATABASE_URL",)) or os.environ.get("DATABASE_URL")
    if url:
        return url
    from config.database import embedded_url

    return embedded_url()


def with_database(url: str, name: str) -> str:
    """`url` with its database replaced by `name`: only the URL's path changes (and a `dbname` query parameter,
    which libpq would let override the path, is dropped). User, password, host (a socket directory too, as
    `%2Fvar%2Frun` or `?host=`), port and the other query parameters (`sslmode`, ...) stay exactly as written."""
    parts = urlsplit(url)
    if not parts.scheme or "://" not in url:
        raise ValueError("a database URL is needed, like postgres://user@host:5432/name")
    query = parts.query
    if any(key == "dbname" for key, _ in parse_qsl(query, keep_blank_values=True)):
        query = "&".join(item for item in query.split("&") if item.split("=", 1)[0] != "dbname")
    return urlunsplit(parts._replace(path="/" + quote(name, safe=""), query=query))


def connect_params(url: str) -> dict[str, str]:
    """psycopg keyword arguments for a database URL, as libpq itself reads the URL."""
    from psycopg.conninfo import conninfo_to_dict

    return {key: str(value) for key, value in conninfo_to_dict(url).items()}


def admin_execute(url: str, *statements: object) -> None:
    """Run statements (CREATE/DROP DATABASE ...) on the server's `postgres` database, outside a transaction."""
    import psycopg

    with psycopg.connect(**connect_params(with_database(url, "postgres")), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def recreate_database(base_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `base_url`; return its URL."""
    from psycopg import sql

    admin_execute(
        base_url,
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
        sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)),
    )
    return with_database(base_url, name)


def drop_database(base_url: str, name: str) -> None:
    from psycopg import sql

    admin_execute(base_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- Django ---------------------------------------------------------------------------------------------------


# For a bench that measures service functions in its own process (no HTTP): development settings, quiet logs.
IN_PROCESS_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.development",
    "DJANGO_DEBUG": "0",
    "MAWID_LOG_LEVEL": "ERROR",
    "MAWID_PROCRASTINATE_LOG_LEVEL": "ERROR",
    "MAWID_DB_CONN_MAX_AGE": "60",
    "MAWID_DOTENV": "off",
}


def setup_django(database_url: str, env: dict[str, str]) -> None:
    """Configure this process for the bench database (the processes it starts inherit the same environment)."""
    os.environ.update(env)
    os.environ["DATABASE_URL"] = database_url
    import django
    from django_scopes.state import state

    django.setup()
    # A bench script is an operator's tool: platform code across businesses (apps/core/scoping.py), like manage.py.
    state.set({"_enabled": False})


def bench_business(**policies: object):
    """The bench's business (slug `bench`, one branch in Riyadh), created once, its policies set to `policies`:
    (business, branch)."""
    from apps.catalog.models import Branch, Business

    business, _ = Business.objects.get_or_create(slug="bench", defaults={"name_en": "Bench salon"})
    for name, value in policies.items():
        setattr(business, name, value)
    business.save()
    branch = Branch.objects.filter(business=business).first() or Branch.objects.create(
        business=business, name_en="Main", city="Riyadh", latitude=24.7136, longitude=46.6753
    )
    return business, branch


def production_env(database_url: str, static_root: Path, **extra: str) -> dict[str, str]:
    """The environment of a production-shaped server process (config.settings.production, loopback fakes
    allowed, no TLS redirect), throttles lifted (one client address drives the whole load), for a subprocess."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "MAWID_"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="bench-" + secrets.token_urlsafe(48),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        MAWID_ALLOW_FAKE_PROVIDERS="1",  # production settings against the loopback fakes
        MAWID_DOTENV="off",  # what is measured is set here, not in a developer's backend/.env
        DJANGO_STATIC_ROOT=str(static_root),
        DATABASE_URL=database_url,
        MAWID_THROTTLE_ANON="1000000/min",
        MAWID_THROTTLE_USER="1000000/min",
        MAWID_THROTTLE_PAYMENT_RETURN="1000000/min",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    """`manage.py ARGS` in a subprocess with `env`."""
    subprocess.run([str(PY), "manage.py", *args], cwd=BACKEND, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare(env: dict[str, str]) -> None:
    """Migrate, seed the demo salon and collect static files for a server run with `env`."""
    manage(env, "migrate", "--noinput", "-v", "0")
    # seed_demo refuses production settings (made-up people); the bench database is no production database.
    manage({**env, "DJANGO_SETTINGS_MODULE": "config.settings.development"}, "seed_demo")
    manage(env, "collectstatic", "--noinput", "-v", "0")


# --- processes and ports --------------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_process(args: list[str], env: dict[str, str], *, log: Path | None = None) -> subprocess.Popen:
    """`args` in backend/, in a process group of its own (so that `stop_process` ends its children too); its
    output goes to `log`, else to this terminal."""
    handle = log.open("w") if log is not None else None
    try:
        return subprocess.Popen(
            args, cwd=BACKEND, env=env, stdout=handle, stderr=None if handle is None else subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    finally:
        if handle is not None:
            handle.close()  # the child has its own copy


def stop_process(popen: subprocess.Popen, timeout: float = 15.0) -> None:
    """End a process `start_process` started, with its children: SIGTERM to its group, SIGKILL after `timeout`
    seconds. Nothing if it has ended already."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, None)):
        if popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):  # it ended in between
            os.killpg(popen.pid, sig)  # its own session: the group id is its pid
        try:
            popen.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_http(
    port: int, path: str = "/healthz", timeout: float = 60.0, popen: subprocess.Popen | None = None, name: str = ""
) -> None:
    """Return once GET http://127.0.0.1:PORT/PATH answers 200; RuntimeError if `popen` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen is not None and popen.poll() is not None:
            raise RuntimeError(f"{name or popen.args[0]} exited with {popen.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered 200 on 127.0.0.1:{port}{path} within {timeout:.0f} s")


def start_gunicorn(args: list[str], env: dict[str, str], port: int, *, timeout: float = 60.0) -> subprocess.Popen:
    """`python -m gunicorn ARGS` (binding 127.0.0.1:PORT through ARGS or env), returned once /healthz answers
    200; stopped again if it does not. Stop it with `stop_process`."""
    server = start_process([str(PY), "-m", "gunicorn", *args], env)
    try:
        wait_http(port, "/healthz", timeout, popen=server, name="gunicorn")
    except BaseException:
        stop_process(server)
        raise
    return server


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class Stack:
    """Processes started by a bench, each logging to LOGS/NAME.log; `stop()` ends exactly these."""

    logs: Path
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        log = self.logs / f"{name}.log"
        proc = Proc(name, start_process(args, env, log=log), log)
        self.procs.append(proc)
        return proc

    def wait_http(self, proc: Proc, port: int, path: str = "/healthz", timeout: float = 60.0) -> None:
        try:
            wait_http(port, path, timeout, popen=proc.popen, name=proc.name)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; see {proc.log}") from None

    def stop(self, proc: Proc | None = None) -> None:
        for p in [proc] if proc else list(reversed(self.procs)):
            stop_process(p.popen)
            if p in self.procs:
                self.procs.remove(p)
