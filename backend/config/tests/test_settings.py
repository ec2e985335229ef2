"""The settings modules and backend/.env, each loaded in a fresh interpreter (settings are read once per process),
and the lists of variables (backend/.env.example, the README) checked against what config/ reads."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.tests.environments import PRODUCTION

BACKEND = Path(__file__).resolve().parents[2]
REPO = BACKEND.parent
CONFIG = BACKEND / "config"



def load(module: str, env: dict[str, str], *names: str) -> tuple[dict, str]:
    """Import `config.settings.<module>` with exactly `env` (plus PATH and the like); return the named settings and
    whatever went to stderr."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "MAWID_", "AUTHENTICA_", "MOYASAR_", "DATABASE_", "PROMETHEUS_"))}
    code = (
        f"import json, config.settings.{module} as s; "
        f"print(json.dumps({{k: getattr(s, k) for k in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-W", "default::DeprecationWarning", "-c", code], cwd=BACKEND, env={**base, **env},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def test_development_settings_read_backend_env_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a developer's file\n"
        "export MAWID_OTP_CODE_LENGTH=8\n"
        "MAWID_THROTTLE_ANON='5/min'\n"
        "DATABASE_URL=postgres://dev@127.0.0.1:5432/from_file\n"
    )
    settings, _ = load(
        "development",
        {"MAWID_DOTENV": str(dotenv), "MAWID_THROTTLE_ANON": "7/min"},
        "OTP_CODE_LENGTH", "REST_FRAMEWORK", "DATABASES",
    )
    assert settings["OTP_CODE_LENGTH"] == 8  # from the file
    assert settings["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]["anon"] == "7/min"  # the environment wins
    assert settings["DATABASES"]["default"]["NAME"] == "from_file"


def test_production_settings_read_backend_env_too(tmp_path):
    """A deploy may keep its variables in backend/.env: the guard against the fakes sees them."""
    dotenv = tmp_path / ".env"
    dotenv.write_text("".join(f"{name}={value}\n" for name, value in PRODUCTION.items()))
    settings, _ = load("production", {"MAWID_DOTENV": str(dotenv)}, "MOYASAR_SECRET_KEY", "DEBUG")
    assert settings == {"MOYASAR_SECRET_KEY": PRODUCTION["MOYASAR_SECRET_KEY"], "DEBUG": False}


def test_the_old_database_names_still_work_in_production_with_a_warning_naming_the_new_ones(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DATABASE_POOL_MIN_SIZE=3\n")
    settings, stderr = load(
        "production",
        {**PRODUCTION, "MAWID_DOTENV": str(dotenv), "DATABASE_POOL_MAX_SIZE": "12",
         "DATABASE_DISABLE_SERVER_SIDE_CURSORS": "1",
         "MAWID_DB_POOL_TIMEOUT": "4", "DATABASE_POOL_TIMEOUT": "99"},
        "DATABASES",
    )
    database = settings["DATABASES"]["default"]
    assert database["OPTIONS"]["pool"] == {"min_size": 3, "max_size": 12, "timeout": 4.0}
    assert database["CONN_MAX_AGE"] == 0
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    for old, new in [("DATABASE_POOL_MAX_SIZE", "MAWID_DB_POOL_MAX_SIZE"),
                     ("DATABASE_DISABLE_SERVER_SIDE_CURSORS", "MAWID_DB_DISABLE_SERVER_SIDE_CURSORS")]:
        assert f"{old} is deprecated: rename it to {new}" in stderr
    assert f"DATABASE_POOL_MIN_SIZE (in {dotenv}) is deprecated: rename it to MAWID_DB_POOL_MIN_SIZE" in stderr
    assert "DATABASE_POOL_TIMEOUT is ignored: MAWID_DB_POOL_TIMEOUT is set too" in stderr


def test_the_new_database_names_in_production(tmp_path):
    settings, stderr = load(
        "production",
        {**PRODUCTION, "MAWID_DOTENV": "off", "MAWID_DB_CONN_MAX_AGE": "30"},
        "DATABASES",
    )
    assert settings["DATABASES"]["default"]["CONN_MAX_AGE"] == 30
    assert "deprecated" not in stderr


def test_test_settings_read_nothing_from_backend_env_but_the_external_tests_variables(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "MAWID_OTP_CODE_LENGTH=8\n"
        "AUTHENTICA_API_KEY='$2y$10$real-key'\n"
        "AUTHENTICA_E2E=1\n"
        "AUTHENTICA_E2E_PHONE=+966500000099\n"
        "AUTHENTICA_E2E_CODE=1234\n"
    )
    settings, _ = load(
        "test",
        {"MAWID_DOTENV": str(dotenv), "DATABASE_URL": "postgres://x@127.0.0.1:5432/x", "AUTHENTICA_E2E_CODE": "9999"},
        "OTP_CODE_LENGTH", "AUTHENTICA_API_KEY", "AUTHENTICA_E2E_ENV",
    )
    assert settings["OTP_CODE_LENGTH"] == 6
    assert settings["AUTHENTICA_API_KEY"] == "fake-authentica-key"
    assert settings["AUTHENTICA_E2E_ENV"] == {
        "AUTHENTICA_E2E": "1",
        "AUTHENTICA_E2E_PHONE": "+966500000099",
        "AUTHENTICA_E2E_CODE": "9999",  # the environment wins here too
        "AUTHENTICA_API_KEY": "$2y$10$real-key",
    }


def test_a_broken_backend_env_stops_the_settings_naming_the_line_not_the_value(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("MAWID_LOG_LEVEL=INFO\nAUTHENTICA_API_KEY '$2y$10$secret'\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MAWID_"))}
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", "import config.settings.development"], cwd=BACKEND,
        env={**base, "MAWID_DOTENV": str(dotenv), "DATABASE_URL": "postgres://x@127.0.0.1:5432/x"},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"ValueError: {dotenv}:2: expected KEY=VALUE (a name, `=`, then the value)"
    assert "secret" not in result.stderr


# --- every variable listed ------------------------------------------------------------------------------------

ENV_FUNCTIONS = {"env_str", "env_int", "env_bool", "env_float", "env_list"}


def variables_read_by_config() -> tuple[set[str], set[str]]:
    """(names, old names) of every env_*() call with a literal name in backend/config."""
    names: set[str] = set()
    old: set[str] = set()
    for path in CONFIG.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ENV_FUNCTIONS):
                continue
            first = node.args[0] if node.args else None
            assert isinstance(first, ast.Constant), f"{path}:{node.lineno}: read a variable by its literal name"
            names.add(first.value)
            for keyword in node.keywords:
                if keyword.arg == "old":
                    old |= {item.value for item in keyword.value.elts}
    return names, old


def example_variables() -> list[str]:
    text = (BACKEND / ".env.example").read_text()
    return re.findall(r"^#? ?(?:export )?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE)


def test_every_variable_config_reads_is_in_env_example():
    names, old = variables_read_by_config()
    assert len(names) > 90  # the parse found them
    listed = example_variables()
    assert sorted(names - set(listed)) == []
    assert sorted(old & set(listed)) == []  # old names only in the explanations
    assert len(listed) == len(set(listed))


def test_every_variable_in_env_example_is_read_somewhere():
    """No stale entries: each is read by config/ (settings, gunicorn), dev.py or the external Authentica test."""
    sources = [path for path in CONFIG.rglob("*.py") if "tests" not in path.relative_to(CONFIG).parts]
    sources += [REPO / "dev.py", BACKEND / "apps" / "accounts" / "tests" / "test_authentica_external.py"]
    text = "\n".join(path.read_text() for path in sources)
    stale = [name for name in example_variables() if f'"{name}"' not in text and f"'{name}'" not in text]
    assert stale == []


def test_the_readme_settings_table_lists_every_variable():
    names, old = variables_read_by_config()
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("## Settings"):]
    assert sorted(name for name in names | set(example_variables()) if f"`{name}`" not in table) == []
    assert sorted(name for name in old if f"`{name}`" not in table) == []  # the rename table


def test_backend_env_stays_out_of_git_and_the_example_in_it():
    git = shutil.which("git")
    if not git or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")

    def ignored(path: str) -> bool:
        return subprocess.run([git, "check-ignore", "-q", path], cwd=REPO, check=False).returncode == 0  # noqa: S603

    assert ignored("backend/.env")
    assert not ignored("backend/.env.example")
