"""Helpers the benchmark scripts share: where PostgreSQL is, throwaway databases, free ports, percentiles.

Each benchmark creates its own database on the server the project uses (DATABASE_URL, or the embedded server,
started if needed) and drops it at the end, so benchmarks never touch development data.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BACKEND = Path(__file__).resolve().parent.parent / "backend"


def server_url() -> str:
    """The URL of the project's database: DATABASE_URL, or the embedded server (started if needed)."""
    if str(BACKEND) not in sys.path:
        sys.path.insert(0, str(BACKEND))
    from config.database import embedded_url

    return os.environ.get("DATABASE_URL") or embedded_url()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def connect_params(url: str) -> dict[str, object]:
    """psycopg keyword arguments for a database URL (a socket directory arrives as ?host=...&port=...)."""
    import dj_database_url

    cfg = dj_database_url.parse(url)
    params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"], "password": cfg["PASSWORD"]}
    params.update(cfg.get("OPTIONS", {}))
    params = {key: value for key, value in params.items() if value}
    params["dbname"] = cfg["NAME"]
    return params


def admin_execute(url: str, *statements: str) -> None:
    """Run statements (CREATE/DROP DATABASE ...) on the server's `postgres` database, outside a transaction."""
    import psycopg

    with psycopg.connect(**connect_params(with_database(url, "postgres")), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def recreate_database(base_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `base_url`; return its URL."""
    admin_execute(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return with_database(base_url, name)


def drop_database(base_url: str, name: str) -> None:
    admin_execute(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str, env: dict[str, str]) -> None:
    """Configure this process for the bench database (the server processes inherit the same environment)."""
    os.environ.update(env)
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
