#!/usr/bin/env python3
"""Mawid's two commands: `python3 dev.py run` (the product) and `python3 dev.py test` (the suite).

Both install what they need first (a virtualenv in .venv from the pinned requirements.txt; only again when
requirements.txt changes). With no DATABASE_URL both use the embedded PostgreSQL in .data/postgres.
`run` reads backend/.env as the settings do (config/env.py; the real environment wins); `test` takes only
DATABASE_URL from it (tests read no other setting from that file; config/settings/test.py).

    python3 dev.py run        migrate, load demo data once, start the app server (gunicorn as in production,
                              reloading on code changes), the job worker and the local Authentica and
                              Moyasar fakes; print every URL; Ctrl-C stops them all
    python3 dev.py test [...] run the whole test suite (extra arguments go to pytest)
    python3 dev.py backup     dump the database (embedded unless DATABASE_URL) into MAWID_BACKUP_DIR, with a manifest
    python3 dev.py restore FILE [--drop | --replace]
                              restore a dump into a fresh database and check it (migrations, row counts); --drop
                              removes it after the check, --replace swaps it in for the live database once the
                              check passed (the old one is kept; stop `run` first) (docs/operations.md)
    python3 dev.py install    only install
    python3 dev.py stop-db    stop the embedded PostgreSQL
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BACKEND = ROOT / "backend"
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / ".requirements.sha256"


def open_in_browser(url: str) -> None:
    """The customer home page in the desktop's browser, when there is a desktop (MAWID_OPEN_BROWSER=0: never)."""
    desktop = sys.platform in {"darwin", "win32"} or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if desktop and os.environ.get("MAWID_OPEN_BROWSER", "1") != "0":
        import webbrowser

        webbrowser.open(url)


def say(message: str) -> None:
    print(f"[mawid] {message}", flush=True)  # noqa: T201


def install() -> None:
    if not PY.exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    say("installing pinned requirements (first run takes a minute)")
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    STAMP.write_text(digest)


def ensure_browser() -> None:
    """The browser tests drive Debian's chromium (Playwright cannot download its own browsers here): install the
    package when it is missing and this user may (root with apt-get). Otherwise those tests skip, saying why."""
    if os.environ.get("MAWID_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    if not shutil.which("apt-get") or os.geteuid() != 0:
        say("no chromium and no way to install it here: the browser tests will be skipped")
        return
    say("installing Debian's chromium for the browser tests (once)")
    quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium", "fonts-dejavu-core"]
    if subprocess.run(command, env=quiet, check=False, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=quiet, check=False, stdout=subprocess.DEVNULL)
        subprocess.run(command, env=quiet, check=False, stdout=subprocess.DEVNULL)
    if not shutil.which("chromium"):
        say("chromium could not be installed: the browser tests will be skipped")


def manage(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(PY), "manage.py", *args], cwd=BACKEND, env=env, check=check)


def config_env():
    """backend/config/env.py, loaded by path: standard library only, so this interpreter (outside the venv) can."""
    spec = importlib.util.spec_from_file_location("mawid_config_env", BACKEND / "config" / "env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def database_url(env: dict[str, str]) -> str:
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    code = "from config.database import embedded_url; print(embedded_url())"
    out = subprocess.run([str(PY), "-c", code], cwd=BACKEND, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def wait_http(url: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback only
                return True
        except OSError:
            time.sleep(0.2)
        except Exception:  # noqa: BLE001 - an HTTP error still means it answers
            return True
    return False


# Files gunicorn's reloader watches besides the Python modules it has loaded (templates and compiled translations
# are cached by Django, so a change needs a worker restart too). Files created after `run` started are not watched.
RELOAD_EXTRA_GLOBS = ("templates/**/*.html", "apps/*/templates/**/*.html", "locale/*/LC_MESSAGES/*.mo")


def source_mtimes() -> dict[Path, int]:
    mtimes = {}
    for path in BACKEND.rglob("*.py"):
        try:
            mtimes[path] = path.stat().st_mtime_ns
        except OSError:  # removed while we looked
            continue
    return mtimes


def app_server_command(host: str, port: str) -> list[str]:
    """The app server `run` starts (from backend/): gunicorn with the production config (`config/gunicorn.conf.py`:
    gthread workers, listen backlog 2048), bound to host:port, restarting its workers when code changes.

    Not `runserver`: its listen backlog is 10, so a burst of simultaneous connections (a booking race) was reset
    or stalled, and what a developer tried was not what production runs.
    """
    command = [str(PY), "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "--bind", f"{host}:{port}", "--reload",
               # gunicorn's control socket defaults to one path in $HOME shared by every gunicorn of the user
               "--no-control-socket"]
    for path in sorted({p for pattern in RELOAD_EXTRA_GLOBS for p in BACKEND.glob(pattern)}):
        command += ["--reload-extra-file", str(path)]
    return command


def run() -> int:
    install()
    env = dict(os.environ)
    # backend/.env first, as the settings would read it: the defaults below then only fill what neither sets.
    config_env().load_dotenv(env)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    pid_file = ROOT / ".data" / "postgres" / "postmaster.pid"
    started_db = not env.get("DATABASE_URL") and not pid_file.exists()
    env["DATABASE_URL"] = database_url(env)
    host = env.get("MAWID_HOST", "127.0.0.1")
    port = env.get("MAWID_PORT", "8000")
    authentica_port = env.get("MAWID_AUTHENTICA_FAKE_PORT", "8101")
    moyasar_port = env.get("MAWID_MOYASAR_FAKE_PORT", "8102")
    zatca_port = env.get("MAWID_ZATCA_FAKE_PORT", "8103")
    env.setdefault("MAWID_PUBLIC_BASE_URL", f"http://{host}:{port}")
    env.setdefault("AUTHENTICA_BASE_URL", f"http://127.0.0.1:{authentica_port}")
    env.setdefault("AUTHENTICA_API_KEY", "fake-authentica-key")
    env.setdefault("MOYASAR_BASE_URL", f"http://127.0.0.1:{moyasar_port}/v1")
    env.setdefault("MOYASAR_SECRET_KEY", "sk_test_fake")
    env.setdefault("MOYASAR_PUBLISHABLE_KEY", "pk_test_fake")
    env.setdefault("MOYASAR_WEBHOOK_SECRET", "fake-webhook-secret")
    env.setdefault("ZATCA_BASE_URL", f"http://127.0.0.1:{zatca_port}/e-invoicing/developer-portal")
    env.setdefault("ZATCA_ENVIRONMENT", "sandbox")
    env.setdefault("MAWID_EMAIL_CATCHER_DIR", str(ROOT / ".data" / "mail"))
    # The app server is gunicorn, as in production (app_server_command): print each request as runserver did, and let
    # /metrics add up its worker processes and the job worker (created before the job worker starts writing to it).
    env.setdefault("MAWID_ACCESS_LOG", "1")
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(ROOT / ".data" / "metrics"))
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

    say("applying migrations")
    manage("migrate", "--noinput", "-v", "0", env=env)
    say("loading demo data (once)")
    manage("seed_demo", env=env)
    manage("demo_sale", env=env)  # one paid sale of the VAT-registered demo business, with its tax invoice

    procs: list[tuple[str, subprocess.Popen]] = []

    def spawn(args: list[str]) -> subprocess.Popen:
        return subprocess.Popen(args, cwd=BACKEND, env=env, start_new_session=True)

    def start(name: str, args: list[str]) -> None:
        procs.append((name, spawn(args)))

    start("authentica-fake", [str(PY), "-m", "apps.accounts.providers.fake", "--host", "127.0.0.1",
                              "--port", authentica_port, "--api-key", env["AUTHENTICA_API_KEY"]])
    start("moyasar-fake", [str(PY), "-m", "apps.payments.providers.fake", "--host", "127.0.0.1",
                           "--port", moyasar_port, "--secret-key", env["MOYASAR_SECRET_KEY"],
                           "--publishable-key", env["MOYASAR_PUBLISHABLE_KEY"],
                           "--webhook-url", f"http://{host}:{port}/api/v1/webhooks/moyasar",
                           "--webhook-secret", env["MOYASAR_WEBHOOK_SECRET"]])
    start("zatca-fake", [str(PY), "-m", "apps.invoicing.zatca.fake", "--host", "127.0.0.1", "--port", zatca_port])
    start("worker", [str(PY), "manage.py", "procrastinate", "worker"])
    start("app", app_server_command(host, port))

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        say("stopping everything this command started")
        for _name, proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _name, proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if started_db:
            subprocess.run([str(PY), "-c", "from config.database import stop_embedded; stop_embedded()"],
                           cwd=BACKEND, check=False)
            say("embedded PostgreSQL stopped")

    signal.signal(signal.SIGTERM, stop)
    base = f"http://{host}:{port}"
    ready = wait_http(f"{base}/healthz")
    say("ready" if ready else "the app server did not answer yet; see its log above")
    say(f"website:         {base}/            (customers: search, book, pay; Arabic, English one tap away)")
    say(f"calendar:        {base}/calendar/   (a business owner: sign in with +966500000002, the code below)")
    say(f"sign-in codes:   http://127.0.0.1:{authentica_port}/_fake/messages   (the Authentica fake's outbox)")
    say(f"API docs:        {base}/api/docs/   (schema: {base}/api/schema/)")
    say(f"admin:           {base}/admin/      (demo manager: +966500000001, password: mawid-demo)")
    say(f"health:          {base}/healthz      metrics: {base}/metrics")
    say(f"Authentica fake: http://127.0.0.1:{authentica_port}/_fake/messages")
    say(f"Moyasar fake:    http://127.0.0.1:{moyasar_port}/_fake/payments")
    say(f"Fatoora fake:    http://127.0.0.1:{zatca_port}/_fake/documents   (ZATCA; onboard: manage.py zatca_onboard "
        "--business SLUG --otp 123345)")
    say(f"database:        {env['DATABASE_URL']}")
    say("Ctrl-C stops everything.")
    open_in_browser(f"{base}/")
    def wait_for_change() -> bool:
        """Until a Python file under backend/ changes (True) or everything is stopping (False)."""
        before = source_mtimes()
        while not stopping:
            time.sleep(1)
            if source_mtimes() != before:
                return True
        return False

    try:
        while not stopping:
            for index, (name, proc) in enumerate(procs):
                if proc.poll() is None:
                    continue
                if name == "app" and ready:
                    # gunicorn's reloader survives a SyntaxError but stops on any other error while loading the
                    # code (a NameError in a models.py): keep everything else running and wait for the fix.
                    say(f"the app server stopped (exit {proc.returncode}, its error is above); "
                        "it starts again when a Python file under backend/ changes")
                    if not wait_for_change():
                        break
                    say("starting the app server again")
                    procs[index] = (name, spawn(app_server_command(host, port)))
                    continue
                say(f"{name} exited with {proc.returncode}")
                stop()
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        stop()
    return 0


def database_command(args: list[str]) -> int:
    """`backup` and `restore FILE`: manage.py db_backup / db_restore against the database `run` uses, starting the
    embedded PostgreSQL when needed (and stopping it afterwards if this command started it)."""
    install()
    env = dict(os.environ)
    config_env().load_dotenv(env)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    started_db = not env.get("DATABASE_URL") and not (ROOT / ".data" / "postgres" / "postmaster.pid").exists()
    env["DATABASE_URL"] = database_url(env)
    if args[0] == "restore":
        if len(args) < 2:
            say("usage: python3 dev.py restore FILE [--database NAME] [--drop | --replace]")
            return 2
        args = ["db_restore", str(Path(args[1]).resolve()), *args[2:]]
    else:
        args = ["db_backup", *args[1:]]
    try:
        return manage(*args, env=env, check=False).returncode
    finally:
        if started_db:
            subprocess.run([str(PY), "-c", "from config.database import stop_embedded; stop_embedded()"],
                           cwd=BACKEND, check=False)


def test(args: list[str]) -> int:
    install()
    ensure_browser()
    env = dict(os.environ)
    # Where PostgreSQL is may come from backend/.env; nothing else there reaches the tests (config/settings/test.py).
    dotenv = config_env()
    try:
        values = dotenv.read_dotenv(dotenv.dotenv_path(env))
    except (OSError, ValueError) as exc:  # reported by `run` and the settings that load the file; tests go on
        say(f"ignoring backend/.env for the tests: {exc}")
        values = {}
    if "DATABASE_URL" not in env and "DATABASE_URL" in values:
        env["DATABASE_URL"] = values["DATABASE_URL"]
    cmd = [str(PY), "-m", "pytest", *parallel(args), *args]
    return subprocess.run(cmd, cwd=BACKEND, env=env, check=False).returncode


def parallel(args: list[str]) -> list[str]:
    """pytest-xdist workers for the whole suite (the browser tests mostly wait on pages): one per core, 2 to 4,
    unless the arguments choose (`-n`, `--numprocesses`, `-p no:xdist`) or name single tests (`::`)."""
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" or "::" in a for a in args)
    if chosen:
        return []
    return ["-n", str(min(4, max(2, os.cpu_count() or 2))), "--dist", "worksteal"]


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "help"
    if command == "run":
        return run()
    if command == "test":
        return test(argv[2:])
    if command in {"backup", "restore"}:
        return database_command(argv[1:])
    if command == "install":
        install()
        return 0
    if command == "stop-db":
        install()
        subprocess.run([str(PY), "-c", "from config.database import stop_embedded; stop_embedded()"],
                       cwd=BACKEND, check=True)
        return 0
    print(__doc__)  # noqa: T201
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
