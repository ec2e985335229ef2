"""bench/_common.py: the one database-URL helper and the one percentile every benchmark script uses.

The benchmarks live outside backend/ (not a package, run as `.venv/bin/python bench/NAME.py`), so the module is
loaded from its path. No database is needed: the URLs are checked as libpq (psycopg) and Django (dj_database_url)
read them.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import dj_database_url
import pytest
from psycopg.conninfo import conninfo_to_dict

BENCH = Path(__file__).resolve().parents[4] / "bench"


def load_common():
    spec = importlib.util.spec_from_file_location("mawid_bench_common", BENCH / "_common.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


common = load_common()

NAME = "mawid_bench_x"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # The case that broke: a user and a database both called `postgres` (the old helper of
        # bench/notifications.py replaced the first "/postgres", the user's, and connected as a role named after
        # the bench database).
        ("postgres://postgres@127.0.0.1:5432/postgres", f"postgres://postgres@127.0.0.1:5432/{NAME}"),
        ("postgres://postgres:postgres@postgres:5432/postgres", f"postgres://postgres:postgres@postgres:5432/{NAME}"),
        ("postgres://mawid@localhost/mawid", f"postgres://mawid@localhost/{NAME}"),
        # user, password (percent-encoded), port, query string kept as written
        (
            "postgres://alice:s3cr%40t@db.example.com:6543/mawid?sslmode=require",
            f"postgres://alice:s3cr%40t@db.example.com:6543/{NAME}?sslmode=require",
        ),
        (
            "postgresql://u:p@h/mawid?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem",
            f"postgresql://u:p@h/{NAME}?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem",
        ),
        # a socket directory as the host, percent-encoded or as ?host= (the embedded server's URL)
        ("postgres://postgres@%2Fvar%2Frun%2Fpostgresql/mawid", f"postgres://postgres@%2Fvar%2Frun%2Fpostgresql/{NAME}"),
        ("postgres://%2Fvar%2Frun/postgres", f"postgres://%2Fvar%2Frun/{NAME}"),
        (
            "postgres://postgres@/mawid?host=/run/mawid-pg&port=5433",
            f"postgres://postgres@/{NAME}?host=/run/mawid-pg&port=5433",
        ),
        # no database in the URL; a `dbname` parameter (libpq would let it override the path) is dropped
        ("postgres://h:5432", f"postgres://h:5432/{NAME}"),
        ("postgres://h/a?dbname=postgres&sslmode=disable", f"postgres://h/{NAME}?sslmode=disable"),
    ],
)
def test_with_database_replaces_only_the_database(url: str, expected: str) -> None:
    result = common.with_database(url, NAME)

    assert result == expected
    # libpq reads everything else exactly as before, and the new database
    assert conninfo_to_dict(result) == {**conninfo_to_dict(url), "dbname": NAME}
    # and so does Django's settings (config/database.py parses DATABASE_URL with dj_database_url)
    before, after = dj_database_url.parse(url), dj_database_url.parse(result)
    assert after["NAME"] == NAME
    for key in ("USER", "PASSWORD", "HOST", "PORT"):
        assert after[key] == before[key]


def test_with_database_gives_the_server_maintenance_database() -> None:
    url = "postgres://postgres@127.0.0.1:5432/mawid_otp"
    assert common.with_database(url, "postgres") == "postgres://postgres@127.0.0.1:5432/postgres"


def test_with_database_refuses_what_is_not_a_url() -> None:
    with pytest.raises(ValueError, match="database URL"):
        common.with_database("host=127.0.0.1 dbname=mawid user=postgres", NAME)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (
            "postgres://postgres@127.0.0.1:5432/postgres",
            {"user": "postgres", "host": "127.0.0.1", "port": "5432", "dbname": "postgres"},
        ),
        (
            "postgres://alice:s3cr%40t@db.example.com:6543/mawid?sslmode=require",
            {
                "user": "alice", "password": "s3cr@t", "host": "db.example.com", "port": "6543",
                "dbname": "mawid", "sslmode": "require",
            },
        ),  # fmt: skip
        ("postgres://%2Fvar%2Frun/mawid", {"host": "/var/run", "dbname": "mawid"}),
        (
            "postgres://postgres@/mawid?host=/run/mawid-pg&port=5433",
            {"user": "postgres", "host": "/run/mawid-pg", "port": "5433", "dbname": "mawid"},
        ),
    ],
)
def test_connect_params_are_what_libpq_reads(url: str, params: dict[str, str]) -> None:
    assert common.connect_params(url) == params


def test_the_server_url_prefers_bench_database_url(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mawid")
    assert common.server_url() == "postgres://postgres@127.0.0.1:5432/mawid"
    monkeypatch.setenv("MAWID_BENCH_DATABASE_URL", "postgres://bench@10.0.0.5:5432/postgres")
    assert common.server_url() == "postgres://bench@10.0.0.5:5432/postgres"


def test_the_old_bench_database_url_name_still_works(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mawid")
    monkeypatch.delenv("MAWID_BENCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgres://bench@10.0.0.5:5432/postgres")
    with pytest.warns(DeprecationWarning, match="MAWID_BENCH_DATABASE_URL"):
        assert common.server_url() == "postgres://bench@10.0.0.5:5432/postgres"


# Nearest rank: the ceil(q * n)-th smallest value (the smallest for q = 0).
ONE_TO_FOUR = [4.0, 1.0, 3.0, 2.0]  # unsorted on purpose
TWENTY = [float(v) for v in range(20, 0, -1)]
HUNDRED = [float(v) for v in range(1, 101)]


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([7.5], 0.5, 7.5),
        ([7.5], 0.99, 7.5),
        (ONE_TO_FOUR, 0.0, 1.0),
        (ONE_TO_FOUR, 0.25, 1.0),
        (ONE_TO_FOUR, 0.26, 2.0),
        (ONE_TO_FOUR, 0.5, 2.0),  # the lower middle value: a percentile is always a measured value
        (ONE_TO_FOUR, 0.95, 4.0),
        (ONE_TO_FOUR, 0.99, 4.0),
        (ONE_TO_FOUR, 1.0, 4.0),
        ([1.0, 2.0, 3.0], 0.5, 2.0),
        (TWENTY, 0.5, 10.0),
        (TWENTY, 0.95, 19.0),
        (TWENTY, 0.99, 20.0),  # fewer than 100 values: p99 is the largest
        (HUNDRED, 0.5, 50.0),
        (HUNDRED, 0.95, 95.0),
        (HUNDRED, 0.99, 99.0),
        (HUNDRED, 0.07, 7.0),  # 0.07 * 100 is 7.000000000000001 in binary floating point
        (HUNDRED, 0.29, 29.0),  # and 0.29 * 100 is 28.999999999999996
    ],
)
def test_pct_is_the_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert common.pct(values, q) == expected


def test_pct_leaves_its_input_alone() -> None:
    values = [3.0, 1.0, 2.0]
    common.pct(values, 0.5)
    assert values == [3.0, 1.0, 2.0]


def test_pct_of_no_values_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        common.pct([], 0.95)


@pytest.mark.parametrize("q", [-0.01, 1.01, 95])
def test_pct_takes_a_fraction(q: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        common.pct([1.0, 2.0], q)


def test_no_bench_script_keeps_its_own_copy_of_a_shared_helper() -> None:
    """Every script imports the helpers from _common.py; none defines one of them (or a percentile) again."""
    shared = {name for name, obj in vars(common).items() if getattr(obj, "__module__", None) == common.__name__}
    shared |= {"percentile", "quantile", "bench_url", "admin_connection", "wait_for_http"}
    scripts = sorted(path for path in BENCH.glob("*.py") if path.name != "_common.py")
    assert scripts
    for script in scripts:
        tree = ast.parse(script.read_text(), filename=str(script))
        defined = {
            node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        }
        imported = {
            node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.module is not None
        }
        assert not defined & shared, f"{script.name} defines {sorted(defined & shared)}: use bench/_common.py"
        assert "_common" in imported, f"{script.name} does not use bench/_common.py"
