"""`python3 dev.py run` serves with gunicorn, as production does: a listen backlog deep enough for a burst of
simultaneous connections (runserver's was 10), workers that reload on code changes, static files served in
development. The command comes from dev.py itself (`app_server_command`), so these tests start what `run` starts."""

from __future__ import annotations

import http.client
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection

BACKEND = Path(__file__).resolve().parents[3]
BURST = 30


def load_dev():
    spec = importlib.util.spec_from_file_location("mawid_dev", BACKEND.parent / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def resolved_config(command: list[str]) -> dict[str, str]:
    """gunicorn's own view of the command's settings (config file and command line together)."""
    out = subprocess.run(  # noqa: S603 - the command dev.py builds
        [*command, "--print-config"], cwd=BACKEND, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return {key.strip(): value.strip() for key, _, value in (line.partition("=") for line in out.splitlines()) if _}


def test_run_serves_with_gunicorn_reloading_with_a_deep_backlog():
    dev = load_dev()
    command = dev.app_server_command("127.0.0.1", "8317")

    assert command[:3] == [str(dev.PY), "-m", "gunicorn"]
    config = resolved_config(command)
    assert int(config["backlog"]) >= 64
    assert config["reload"] == "True"
    assert config["worker_class"] == "gthread"  # the production worker class, from config/gunicorn.conf.py
    assert config["bind"] == "['127.0.0.1:8317']"
    assert config["wsgi_app"] == "config.wsgi:application"
    assert str(BACKEND / "templates" / "admin" / "base_site.html") in config["reload_extra_files"]


def listen_backlog(port: int) -> int | None:
    """The listening socket's backlog as the kernel reports it (`ss`: Send-Q of a LISTEN socket)."""
    ss = shutil.which("ss")
    if not ss:
        return None
    out = subprocess.run(  # noqa: S603 - iproute2's ss, a port number
        [ss, "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=False
    ).stdout
    fields = out.split()
    return int(fields[2]) if len(fields) > 2 else None


def get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture
def dev_server(transactional_db):
    """The app server as `dev.py run` starts it (development settings), on this test database.

    Its processes commit on their own connections (throttle counters for /api/docs/), so the test is transactional:
    the tables are emptied afterwards and the next tests see none of it."""
    dev = load_dev()
    port = free_port()
    database = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MAWID_", "PROMETHEUS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.development",
        # host and port as query parameters: the embedded server's host is a socket directory (and comes in OPTIONS)
        DATABASE_URL=f"postgres://{database['USER']}:{database['PASSWORD']}@/{database['NAME']}?" + urlencode({
            "host": database["HOST"] or database["OPTIONS"].get("host") or "127.0.0.1",
            "port": database["PORT"] or database["OPTIONS"].get("port") or 5432,
        }),
        WEB_CONCURRENCY="2",
        MAWID_GUNICORN_LOG_LEVEL="warning",
        MAWID_DOTENV="off",  # a developer's backend/.env must not change what is tested
    )
    log = (BACKEND.parent / ".data").resolve()
    log.mkdir(exist_ok=True)
    with open(log / f"test-dev-server-{port}.log", "w+b") as output:  # noqa: PTH123
        server = subprocess.Popen(  # noqa: S603 - the command dev.py builds
            dev.app_server_command("127.0.0.1", str(port)), cwd=BACKEND, env=env, start_new_session=True,
            stdout=output, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if get(port, "/healthz", timeout=2)[0] == 200:
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    output.seek(0)
                    pytest.fail(f"the dev server did not start:\n{output.read().decode(errors='replace')[-3000:]}")
                time.sleep(0.2)
            yield port
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    (log / f"test-dev-server-{port}.log").unlink(missing_ok=True)


def test_a_burst_of_simultaneous_connections_is_answered_and_static_files_are_served(dev_server):
    port = dev_server
    backlog = listen_backlog(port)
    assert backlog is None or backlog >= 64, f"listen backlog {backlog}"

    start = threading.Barrier(BURST)
    outcomes: list[object] = []

    def one() -> None:
        start.wait()
        try:
            outcomes.append(get(port, "/healthz")[0])
        except OSError as exc:  # a reset or refused connection
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=one) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert outcomes == [200] * BURST

    # Development settings serve static files without collectstatic (WhiteNoise finds them while DEBUG is on).
    docs_status, docs = get(port, "/api/docs/")
    assert docs_status == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert get(port, "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")[0] == 200
    assert get(port, "/static/admin/css/base.css")[0] == 200
