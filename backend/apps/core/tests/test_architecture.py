"""The layer rules of docs/architecture.md are checked, not remembered: `lint-imports` keeps the contracts in
backend/pyproject.toml on the real code, and those contracts catch an import hidden inside a function."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = ["core", "accounts", "catalog", "bookings", "payments", "invoicing", "waitlist", "notifications", "demo", "web"]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(  # noqa: S603 - our own tool on our own files
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_code_keeps_the_contracts():
    result = lint_imports(BACKEND)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "code", "broken"),
    [
        (
            "apps/core/helpers.py",
            "def f():\n    from apps.bookings import models\n",
            "apps.core is not allowed to import apps.bookings",
        ),
        (
            "apps/accounts/helpers.py",
            "def f():\n    import apps.catalog\n",
            "apps.accounts is not allowed to import apps.catalog",
        ),
        (
            "apps/catalog/helpers.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from apps.payments import models\n",
            "apps.catalog is not allowed to import apps.payments",
        ),
        (
            "apps/payments/helpers.py",
            "def f():\n    from apps import notifications\n",
            "apps.payments is not allowed to import apps.notifications",
        ),
        (
            "apps/payments/helpers.py",
            "def f():\n    from apps.invoicing import models\n",
            "apps.payments is not allowed to import apps.invoicing",
        ),
        (
            "apps/web/helpers.py",
            "def f():\n    from apps.notifications import models\n",
            "apps.web is not allowed to import apps.notifications",
        ),
        (
            "apps/demo/helpers.py",
            "def f():\n    from apps.notifications import models\n",
            "apps.demo is not allowed to import apps.notifications",
        ),
        (
            "apps/notifications/helpers.py",
            "def f():\n    from apps.demo import helpers\n",
            "apps.notifications is not allowed to import apps.demo",
        ),
        (
            "apps/bookings/helpers.py",
            "def f():\n    from config import settings\n",
            "apps.bookings.helpers -> config.settings",
        ),
        (
            "apps/payments/services/state.py",
            "def f():\n    from apps.payments.services import settlement\n",
            "apps.payments.services.state is not allowed to import apps.payments.services.settlement",
        ),
    ],
)
def test_an_import_inside_a_function_breaks_a_contract(tmp_path, module, code, broken):
    # given: the real contracts over a skeleton of the packages, and one import against the rules
    (tmp_path / "pyproject.toml").write_text((BACKEND / "pyproject.toml").read_text())
    for package in ["apps", "config", *(f"apps/{app}" for app in APPS)]:
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    for allowed in ["apps/notifications/helpers.py", "apps/demo/helpers.py", "config/settings.py"]:
        (tmp_path / allowed).write_text("")
    # Payments' services have a layers contract of their own: the skeleton has their modules, empty.
    (tmp_path / "apps/payments/services").mkdir()
    for service in (BACKEND / "apps/payments/services").glob("*.py"):
        (tmp_path / "apps/payments/services" / service.name).write_text("")
    (tmp_path / module).write_text(code)

    # when
    result = lint_imports(tmp_path)

    # then
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in " ".join(result.stdout.split())
