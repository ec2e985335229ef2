"""Settings from the environment, each with a safe development default, and the `backend/.env` file.

Names (README, *Settings*, has the table; `backend/.env.example` lists every variable):

- `MAWID_...`: every setting of this project, including how it sets up Django and the libraries it uses
  (`MAWID_TIME_ZONE`, `MAWID_EMAIL_HOST`, `MAWID_THROTTLE_ANON`, `MAWID_DB_CONN_MAX_AGE`, ...).
- `DJANGO_<SETTING>`: Django's deployment and security setting of that exact name (`DJANGO_SECRET_KEY` is
  `SECRET_KEY`, `DJANGO_SECURE_HSTS_SECONDS` is `SECURE_HSTS_SECONDS`), the names every Django operator expects.
- `AUTHENTICA_...`, `MOYASAR_...`: a provider's address, keys, timeouts and client retries.
- Names that other programs define stay theirs: `DATABASE_URL`, `DJANGO_SETTINGS_MODULE`, `PORT`,
  `WEB_CONCURRENCY`, `FORWARDED_ALLOW_IPS` (gunicorn), `PROMETHEUS_MULTIPROC_DIR` (prometheus_client).

A renamed variable is read under its new name and, for now, under its old ones (`old=`): one warning per old
name a process finds (a `DeprecationWarning` and a log line, both naming the new name). When both are set, the new
name wins.

`backend/.env` (ignored by git; `MAWID_DOTENV` names another file, `MAWID_DOTENV=off` none): `KEY=VALUE` lines,
`#` comments, an optional `export ` prefix, values in 'single' quotes (taken as they are) or "double" quotes
(`\\"`, `\\\\`, `\\n`, `\\t` escapes), no `$VAR` expansion, so `$2y$10$...` API keys need no quoting. The
development and production settings, the gunicorn config and `dev.py` load it into the environment without
replacing anything already there: the real environment wins, and every reader (these functions, gunicorn,
prometheus_client, the processes they start) sees the same values. The test settings do not load it (see
`config/settings/test.py`).

This module imports nothing but the standard library: `dev.py` loads it by path, outside the virtualenv.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterable, MutableMapping
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1]
DEFAULT_DOTENV = BACKEND_DIR / ".env"

logger = logging.getLogger("config.env")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

# Old names already reported by this process, and the file each variable loaded from a .env file came from.
_reported: set[str] = set()
_loaded_from: dict[str, Path] = {}


# --- reading one variable -------------------------------------------------------------------------------------


def _report_old_name(old: str, new: str, *, ignored: bool) -> None:
    if old in _reported:
        return
    _reported.add(old)
    where = f" (in {_loaded_from[old]})" if old in _loaded_from else ""
    if ignored:
        message = f"{old}{where} is ignored: {new} is set too. Remove {old}; it was renamed to {new}."
    else:
        message = f"{old}{where} is deprecated: rename it to {new}. Its value is used until then."
    warnings.warn(message, DeprecationWarning, stacklevel=4)
    logger.warning(message)


def _lookup(name: str, old: Iterable[str]) -> tuple[str, str | None]:
    """(the name the value was found under, the value), or (name, None) when neither name is set."""
    found, value = name, os.environ.get(name)
    for previous in old:
        if previous not in os.environ:
            continue
        if value is None:
            found, value = previous, os.environ[previous]
            _report_old_name(previous, name, ignored=False)
        else:
            _report_old_name(previous, name, ignored=True)
    return found, value


def env_str(name: str, default: str = "", *, old: Iterable[str] = ()) -> str:
    _, raw = _lookup(name, old)
    return default if raw is None else raw


def env_bool(name: str, default: bool = False, *, old: Iterable[str] = ()) -> bool:
    found, raw = _lookup(name, old)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{found} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, *, old: Iterable[str] = ()) -> int:
    found, raw = _lookup(name, old)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{found} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float, *, old: Iterable[str] = ()) -> float:
    found, raw = _lookup(name, old)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{found} must be a number, got {raw!r}") from exc


def env_list(name: str, default: list[str] | None = None, *, old: Iterable[str] = ()) -> list[str]:
    _, raw = _lookup(name, old)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


# --- the .env file ----------------------------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)")
_DOUBLE_QUOTED_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_OFF = {"", "0", "off", "no", "none", "false"}


def _value(raw: str, where: str) -> str:
    """The value of one line, after `=`. Errors name the line, never the value (it may be a secret)."""
    original, raw = raw, raw.strip()
    if raw[:1] == "'":
        end = raw.find("'", 1)
        if end < 0:
            raise ValueError(f"{where}: the value's opening ' is never closed (values are one line)")
        value, rest = raw[1:end], raw[end + 1 :]
    elif raw[:1] == '"':
        chars: list[str] = []
        index = 1
        while index < len(raw) and raw[index] != '"':
            if raw[index] == "\\" and index + 1 < len(raw) and raw[index + 1] in _DOUBLE_QUOTED_ESCAPES:
                chars.append(_DOUBLE_QUOTED_ESCAPES[raw[index + 1]])
                index += 2
            else:
                chars.append(raw[index])
                index += 1
        if index >= len(raw):
            raise ValueError(f'{where}: the value\'s opening " is never closed (values are one line)')
        value, rest = "".join(chars), raw[index + 1 :]
    else:
        # Unquoted: a `#` after whitespace starts a comment; `#` inside a word (`a#b`) is part of the value.
        return re.split(r"\s#", original, maxsplit=1)[0].strip()
    rest = rest.strip()
    if rest and not rest.startswith("#"):
        raise ValueError(f"{where}: text after the closing quote (quote the whole value, or start a # comment)")
    return value


def parse_dotenv(text: str, *, source: str = ".env") -> dict[str, str]:
    """`KEY=VALUE` lines as a dict (the last of repeated keys wins). Raises ValueError naming `source:line`."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.fullmatch(stripped)
        if not match:
            raise ValueError(f"{source}:{number}: expected KEY=VALUE (a name, `=`, then the value)")
        key, raw = match.groups()
        values[key] = _value(raw, f"{source}:{number} ({key})")
    return values


def dotenv_path(environ: MutableMapping[str, str] | None = None) -> Path | None:
    """The .env file to read: `MAWID_DOTENV` (relative to backend/), or backend/.env; None for `MAWID_DOTENV=off`."""
    raw = (os.environ if environ is None else environ).get("MAWID_DOTENV")
    if raw is None:
        return DEFAULT_DOTENV
    if raw.strip().lower() in _OFF:
        return None
    return BACKEND_DIR / Path(raw.strip()).expanduser()


def read_dotenv(path: Path | None) -> dict[str, str]:
    """The file's variables; {} for no file. A file named by `MAWID_DOTENV` must exist; backend/.env may not."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if path == DEFAULT_DOTENV:
            return {}
        raise FileNotFoundError(f"MAWID_DOTENV names {path}, which does not exist") from None
    return parse_dotenv(text, source=str(path))


def load_dotenv(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Put the .env file's variables into the environment where it has none: the real environment wins.

    Returns the names it set. Called by the development and production settings (before they read anything), the
    gunicorn config and dev.py; calling it again changes nothing.
    """
    target = os.environ if environ is None else environ
    path = dotenv_path(target)
    added = []
    for key, value in read_dotenv(path).items():
        if key not in target:
            target[key] = value
            added.append(key)
            if path is not None and target is os.environ:
                _loaded_from[key] = path
    return added
