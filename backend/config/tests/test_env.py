"""config/env.py: variables read under their new names and, with a warning, their old ones; the .env file."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest

from config import env
from config.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    load_dotenv,
    parse_dotenv,
    read_dotenv,
)


@pytest.fixture(autouse=True)
def fresh_reports(monkeypatch):
    """Each test starts as a new process would: no old name reported yet, nothing loaded from a file."""
    monkeypatch.setattr(env, "_reported", set())
    monkeypatch.setattr(env, "_loaded_from", {})
    for name in ("MAWID_T_NEW", "T_OLD", "T_OLDER", "MAWID_T_FILE_ONLY", "MAWID_DOTENV"):
        monkeypatch.setenv(name, "")  # so that monkeypatch restores the name, whatever a test's load_dotenv() set
        monkeypatch.delenv(name)


# --- renamed variables ----------------------------------------------------------------------------------------


def test_the_new_name_is_read_without_a_warning(monkeypatch, recwarn, caplog):
    monkeypatch.setenv("MAWID_T_NEW", "42")

    assert env_int("MAWID_T_NEW", 1, old=("T_OLD",)) == 42
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]
    assert not caplog.records


def test_neither_name_set_gives_the_default(recwarn):
    assert env_int("MAWID_T_NEW", 7, old=("T_OLD",)) == 7
    assert env_str("MAWID_T_NEW", "x", old=("T_OLD",)) == "x"
    assert not recwarn.list


def test_the_old_name_is_still_read_with_a_warning_naming_the_new_one(monkeypatch, caplog):
    monkeypatch.setenv("T_OLD", "30")

    with caplog.at_level(logging.WARNING, logger="config.env"), pytest.warns(DeprecationWarning, match="T_OLD") as caught:
        assert env_int("MAWID_T_NEW", 60, old=("T_OLD",)) == 30

    assert len(caught) == 1
    message = str(caught[0].message)
    assert "T_OLD is deprecated" in message
    assert "MAWID_T_NEW" in message
    assert [r.getMessage() for r in caplog.records] == [message]  # operators see it in the log too


def test_both_names_set_the_new_one_wins_and_the_old_one_is_reported(monkeypatch, caplog):
    monkeypatch.setenv("MAWID_T_NEW", "1")
    monkeypatch.setenv("T_OLD", "0")

    with caplog.at_level(logging.WARNING, logger="config.env"), pytest.warns(DeprecationWarning, match="T_OLD") as caught:
        assert env_bool("MAWID_T_NEW", False, old=("T_OLD",)) is True

    assert len(caught) == 1
    assert "T_OLD is ignored: MAWID_T_NEW is set too" in str(caught[0].message)
    assert len(caplog.records) == 1


def test_one_warning_per_old_name_however_often_it_is_read(monkeypatch):
    monkeypatch.setenv("T_OLD", "a,b")
    monkeypatch.setenv("T_OLDER", "c")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert env_list("MAWID_T_NEW", [], old=("T_OLD", "T_OLDER")) == ["a", "b"]  # the first old name set
        assert env_list("MAWID_T_NEW", [], old=("T_OLD", "T_OLDER")) == ["a", "b"]
        assert env_str("MAWID_T_NEW", "", old=("T_OLD",)) == "a,b"

    assert all(issubclass(w.category, DeprecationWarning) for w in caught)
    assert sorted(str(w.message).split(" ")[0] for w in caught) == ["T_OLD", "T_OLDER"]


def test_a_bad_value_under_the_old_name_names_the_old_name(monkeypatch):
    monkeypatch.setenv("T_OLD", "ten")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match=r"^T_OLD must be a number"):
            env_float("MAWID_T_NEW", 1.0, old=("T_OLD",))


# --- the .env format ------------------------------------------------------------------------------------------


def test_the_dotenv_format():
    text = "\n".join(
        [
            "\ufeff# a comment",
            "",
            "PLAIN=value",
            "  SPACED = padded value  ",
            "export EXPORTED=1",
            "EMPTY=",
            "EMPTY_WITH_COMMENT= # nothing",
            "INLINE=abc # a comment",
            "HASH_IN_WORD=abc#def",
            "EQUALS=a=b=c",
            "SINGLE='$2y$10$abc # not a comment'",
            'DOUBLE="line\\none \\"q\\" \\\\ $HOME"  # comment',
            "NO_EXPANSION=${HOME}/x",
            "REPEATED=first",
            "REPEATED=second",
            "lower_case=ok",
        ]
    )
    assert parse_dotenv(text) == {
        "PLAIN": "value",
        "SPACED": "padded value",
        "EXPORTED": "1",
        "EMPTY": "",
        "EMPTY_WITH_COMMENT": "",
        "INLINE": "abc",
        "HASH_IN_WORD": "abc#def",
        "EQUALS": "a=b=c",
        "SINGLE": "$2y$10$abc # not a comment",
        "DOUBLE": 'line\none "q" \\ $HOME',
        "NO_EXPANSION": "${HOME}/x",
        "REPEATED": "second",
        "lower_case": "ok",
    }


def test_windows_line_endings_are_read():
    assert parse_dotenv("A=1\r\nB='2'\r\n") == {"A": "1", "B": "2"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("AUTHENTICA_API_KEY s3cret-value", "expected KEY=VALUE"),
        ("1BAD=s3cret-value", "expected KEY=VALUE"),
        ("KEY='s3cret-value", "never closed"),
        ('KEY="s3cret-value', "never closed"),
        ("KEY='s3cret'-value", "after the closing quote"),
    ],
)
def test_a_malformed_line_is_refused_naming_the_line_but_not_the_value(line, problem):
    with pytest.raises(ValueError, match=problem) as raised:
        parse_dotenv(f"OK=1\n{line}\n", source="backend/.env")

    assert str(raised.value).startswith("backend/.env:2")
    assert "s3cret" not in str(raised.value)


# --- loading the file -----------------------------------------------------------------------------------------


def test_the_file_fills_the_environment_and_the_real_environment_wins(tmp_path):
    dotenv = tmp_path / "my.env"
    dotenv.write_text("FROM_FILE=file\nBOTH=file\nEMPTY_IN_ENV=file\n")
    environ = {"MAWID_DOTENV": str(dotenv), "BOTH": "environment", "EMPTY_IN_ENV": ""}

    assert load_dotenv(environ) == ["FROM_FILE"]
    assert environ == {"MAWID_DOTENV": str(dotenv), "FROM_FILE": "file", "BOTH": "environment", "EMPTY_IN_ENV": ""}
    assert load_dotenv(environ) == []  # again: nothing changes


def test_env_functions_see_the_file_and_an_old_name_in_it_is_reported_with_the_file(tmp_path, monkeypatch):
    dotenv = tmp_path / "my.env"
    dotenv.write_text("T_OLD=12\nMAWID_T_FILE_ONLY=yes\n")
    monkeypatch.setenv("MAWID_DOTENV", str(dotenv))

    assert sorted(load_dotenv()) == ["MAWID_T_FILE_ONLY", "T_OLD"]  # into os.environ (restored after the test)

    assert env_bool("MAWID_T_FILE_ONLY") is True
    with pytest.warns(DeprecationWarning, match=rf"T_OLD \(in {dotenv}\) is deprecated: rename it to MAWID_T_NEW"):
        assert env_int("MAWID_T_NEW", 0, old=("T_OLD",)) == 12


def test_which_file(tmp_path):
    assert env.dotenv_path({}) == env.BACKEND_DIR / ".env"
    assert env.dotenv_path({"MAWID_DOTENV": "off"}) is None
    assert env.dotenv_path({"MAWID_DOTENV": ""}) is None
    assert env.dotenv_path({"MAWID_DOTENV": "../other.env"}) == env.BACKEND_DIR / "../other.env"
    assert env.dotenv_path({"MAWID_DOTENV": str(tmp_path / "x.env")}) == tmp_path / "x.env"


def test_a_missing_default_file_is_fine_a_missing_named_one_is_not(tmp_path, monkeypatch):
    monkeypatch.setattr(env, "DEFAULT_DOTENV", tmp_path / ".env")
    assert read_dotenv(tmp_path / ".env") == {}
    assert read_dotenv(None) == {}
    with pytest.raises(FileNotFoundError, match="MAWID_DOTENV names"):
        read_dotenv(tmp_path / "typo.env")


def test_the_env_module_imports_only_the_standard_library():
    """dev.py loads it by path with the system interpreter, outside the virtualenv."""
    import ast
    import sys

    tree = ast.parse(Path(env.__file__).read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert modules - {"__future__"} <= set(sys.stdlib_module_names)
