"""`etl-session coverage` without dbt, while nothing dbt resolved for it has changed.

The coverage operation runs three read-only statements, but a command that asks dbt pays for
dbt first: importing it takes ~1.1 s and its first invocation ~0.8 s. So a command that asked dbt
(`etl_session.coverage` with `plan=true`) keeps a *plan* in a private cache folder, holding what
dbt resolved and nothing dbt did not:

- the three statements as dbt compiled them (the running sessions' owners, the sessions, the
  per-node results), and the answer's fixed part (source, target, the period models and their
  etl_period_begin);
- the connection as the adapter resolved it: DuckDB's file, Postgres's host, port, user, database
  and other connection keys; for the password only where it comes from (the literal in
  profiles.yml, or the variable of `env_var('NAME')`), never the password itself;
- a fingerprint of everything those were made from: every file (name, size, modification time)
  under the resource paths of the project, of its packages and of dbt's own macros (the global
  project, the adapter's), the projects' top-level files and profiles.yml; and the values
  (hashed) of every `DBT_*` and `ETL_SESSION_*` variable and of every variable those files name
  in `env_var()`.

The next command with the same project, profiles folder, target, vars, source and working folder
checks the fingerprint (a stat per file), connects with the driver dbt itself uses and runs the
statements. It asks dbt instead (and keeps a new plan) when:

- there is no plan, or the fingerprint differs (a file edited, added or removed; a variable set,
  changed or unset; a new version of dbt or of the package);
- a running session's owner is gone: dbt's path closes it as abandoned first, which writes;
- anything fails: a table missing, the DuckDB file held by a load, a refused login.

No plan is kept when dbt's connection cannot be made the same way without dbt (DuckDB with
extensions, attachments, plugins, settings, secrets or a remote path; Postgres with a role or a
search_path; a password from anything but a literal or `env_var('NAME'[, 'default'])`, checked
against the one dbt used), when a file calls `env_var()` with a name that is not a literal, or
when a file changed in the seconds before dbt read it. So the fast path shows only what dbt's
path would show: the same statements, on the same connection, over the same data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from etl_session import _jinja_cache

#: The plan's format; a plan of another format is not read.
VERSION = 1
#: The cache folder (`off` switches the fast path off).
ENV_VAR = "ETL_SESSION_COVERAGE_CACHE"
#: Plans unused this long are removed when a plan is written.
UNUSED_DAYS = 30
#: A file modified this close to the start of dbt's run may have changed after dbt read it.
SETTLED_SECONDS = 2.0

#: Where a project's files are, by the config's names (RuntimeConfig attributes).
_RESOURCE_PATHS = (
    "model_paths",
    "macro_paths",
    "seed_paths",
    "test_paths",
    "analysis_paths",
    "snapshot_paths",
    "docs_paths",
    "asset_paths",
    "function_paths",
)
_TOP_FILES = (
    "dbt_project.yml",
    "packages.yml",
    "dependencies.yml",
    "selectors.yml",
    "package-lock.yml",
    "profiles.yml",
    ".dbtignore",
)
#: Plans and their writers' leftovers: the only files pruning may remove.
_PLAN_FILE = re.compile(r"^(?:[0-9a-f]{40}\.json|\.[0-9a-f]{40}\.[0-9]+\.tmp)$")
#: Jinja that reads the clock: a config computed from it (a rolling etl_period_begin) would be
#: frozen in the plan.
_CLOCK = re.compile(
    r"\brun_started_at\b|\.(?:now|utcnow|today)\s*\(|\bmodules\.time\.(?:time|localtime|gmtime)\b"
)
#: The fast path waits this long at most for Postgres to answer (dbt's path waits again).
CONNECT_TIMEOUT = 3
#: Files read for the names of the variables they read (seeds' data is not Jinja).
_TEXT_SUFFIXES = {".sql", ".yml", ".yaml", ".py", ".md", ".jinja", ".j2", ".txt"}
_ENV_CALL = re.compile(r"\benv_var\s*\(")
_ENV_NAMED = re.compile(r"""\benv_var\s*\(\s*(['"])([^'"\\]+)\1\s*[,)]""")
_ENV_PASSWORD = re.compile(
    r"""^\s*\{\{\s*env_var\(\s*(['"])(\w+)\1\s*(?:,\s*(['"])([^'"\\]*)\3\s*)?\)\s*\}\}\s*$"""
)
#: Variables always in the fingerprint: dbt's own, and the package's (its macros read
#: ETL_SESSION_* settings by names they build, in its own files only).
_PREFIXES = ("DBT_", "ETL_SESSION_")
_SECRET = "DBT_ENV_SECRET"
#: The password's keys in a profile's target (dbt-postgres accepts both).
_PASSWORD_KEYS = ("password", "pass")
#: The package's dbt project name.
_PACKAGE = "etl_session"
#: DuckDB credentials that change what a connection sees or can do: no plan with any of them.
_DUCKDB_EXTRAS = (
    "extensions",
    "settings",
    "secrets",
    "attach",
    "filesystems",
    "remote",
    "plugins",
    "config_options",
    "module_paths",
    "use_credential_provider",
    "is_ducklake",
    "motherduck_token",
)


def directory() -> Path | None:
    """The folder of plans: $ETL_SESSION_COVERAGE_CACHE, else $XDG_CACHE_HOME/etl-session/coverage,
    else ~/.cache/etl-session/coverage; None when switched off."""
    return _jinja_cache.cache_folder(ENV_VAR, "coverage")


def key(
    *,
    project_dir: str | os.PathLike[str],
    profiles_dir: str | os.PathLike[str] | None,
    target: str | None,
    vars: str | None,
    source: str | None,
) -> str:
    """The plan's name: one per command line (and working folder, which relative paths use)."""
    parts = [
        VERSION,
        os.getcwd(),
        str(Path.home()),  # ~/.dbt/profiles.yml, ~ in paths
        str(Path(project_dir).expanduser().resolve()),
        str(Path(profiles_dir).expanduser().resolve()) if profiles_dir is not None else None,
        target,
        vars,
        source,
        sys.prefix,  # the environment (a venv), not the name its python was started by
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:40]


# -- the fast path ------------------------------------------------------------------------------


def answer(name: str) -> dict[str, Any] | None:
    """What the coverage operation would announce, read without dbt; None when dbt must ask."""
    folder = directory()
    if folder is None or not _jinja_cache._private(folder):
        return None
    path = folder / f"{name}.json"
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(plan, dict) or plan.get("version") != VERSION:
            return None
        if fingerprint(plan, os.environ) != plan.get("fingerprint"):
            return None
        found = _run(plan)
    except Exception:  # whatever went wrong, dbt's path decides
        return None
    if found is not None:
        with contextlib.suppress(OSError):
            os.utime(path)
    return found


def _run(plan: Mapping[str, Any]) -> dict[str, Any] | None:
    statements = plan["statements"]
    with contextlib.closing(_connect(plan)) as connection:
        owners = _rows(connection, statements["owners"])
        if any(str(row[2]) == "dead" for row in owners):
            return None  # dbt's path closes it as abandoned first
        sessions = _value(connection, statements["sessions"])
        results = _value(connection, statements["results"]) if statements.get("results") else ""
    fixed = plan["answer"]
    return {
        "event": "coverage",
        "source": fixed["source"],
        "target": fixed["target"],
        "models": fixed["models"],
        "sessions": sessions,
        "results": results,
        "swept": [],
    }


def _connect(plan: Mapping[str, Any]) -> Any:
    settings = dict(plan["connect"])
    if plan["adapter"] == "duckdb":
        import duckdb

        return duckdb.connect(settings["path"], read_only=True)
    if plan["adapter"] == "postgres":
        import psycopg2

        password = _password(plan["password"], plan["profiles"], plan["profile"], plan["output"])
        connection = psycopg2.connect(password=password, **settings)
        connection.autocommit = True
        return connection
    raise ValueError(f"no fast path for {plan['adapter']}")


def _rows(connection: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        with contextlib.suppress(Exception):
            cursor.close()


def _value(connection: Any, sql: str) -> str:
    rows = _rows(connection, sql)
    return str(rows[0][0]) if rows and rows[0][0] is not None else ""


# -- the fingerprint ----------------------------------------------------------------------------


def fingerprint(plan: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """A hash of the files under the plan's dirs, of its files, of the names in its listings
    (the packages folders: dbt loads every package there), and of the variables dbt may read
    (but the password's: a wrong one is a refused login, which falls back to dbt)."""
    return _hash(_entries(plan), environ, plan["env_names"], plan)


def _hash(
    entries: list[list[Any]],
    environ: Mapping[str, str],
    env_names: Iterable[str],
    plan: Mapping[str, Any],
) -> str:
    names = set(env_names) | {name for name in environ if name.startswith(_PREFIXES)}
    names.discard(str((plan.get("password") or {}).get("env")))
    # dbt allows secrets only in profiles.yml and packages.yml: the password (left out above)
    # and what installs packages, whose files are in the fingerprint. No plan is kept when
    # another field of the profile reads one (_describe).
    names = {name for name in names if not name.startswith(_SECRET)}
    variables = [[name, environ.get(name)] for name in sorted(names)]
    text = json.dumps([entries, variables], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _entries(plan: Mapping[str, Any]) -> list[list[Any]]:
    """[path, modification time (ns), size] of every file under the plan's `dirs` (dbt
    follows links) and of its `files`, sorted, [path, None, None] for what does not exist; and
    [folder, names, None] for each of its `listings`."""
    found: list[list[Any]] = []
    for path in sorted(set(plan["files"])):
        found.append(_entry(path))
    for folder in sorted(set(plan["dirs"])):
        _walk(folder, found, set())
    for folder in sorted(set(plan.get("listings") or ())):
        try:
            found.append([folder, sorted(os.listdir(folder)), None])
        except OSError:
            found.append([folder, None, None])
    return found


def _entry(path: str) -> list[Any]:
    try:
        status = os.stat(path)
    except OSError:
        return [path, None, None]
    return [path, status.st_mtime_ns, status.st_size]


def _walk(folder: str, found: list[list[Any]], seen: set[str]) -> None:
    real = os.path.realpath(folder)
    if real in seen:
        return
    seen.add(real)
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        found.append([folder, None, None])
        return
    for entry in entries:
        try:
            status = entry.stat()
        except OSError:
            found.append([entry.path, None, None])
            continue
        if stat.S_ISDIR(status.st_mode):
            _walk(entry.path, found, seen)
        else:
            found.append([entry.path, status.st_mtime_ns, status.st_size])


# -- keeping a plan -----------------------------------------------------------------------------


class Capture:
    """Called with every announcement of the coverage operation's dbt run: takes what dbt
    resolved from its adapter while it is there. `keep` writes it once the run succeeded."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        #: The variables as the command found them, before etl-session set its own for dbt.
        self.environ = dict(environ)
        self.started = time.time()
        self.described: dict[str, Any] | None = None

    def __call__(self, announced: Mapping[str, Any]) -> None:
        if announced.get("event") != "coverage" or not isinstance(announced.get("plan"), dict):
            return
        try:
            self.described = _describe(announced)
        except Exception:  # no plan, never a failed command
            self.described = None


def keep(name: str, capture: Capture | None) -> bool:
    """Write the plan `capture` took (when it took one and nothing changed since dbt read its
    files); whether a plan was written. Never raises."""
    folder = directory()
    if capture is None or capture.described is None or folder is None:
        return False
    try:
        plan = dict(capture.described)
        entries = _entries(plan)
        settled = (capture.started - SETTLED_SECONDS) * 1e9
        files = [(path, mtime) for path, mtime, size in entries if isinstance(mtime, int)]
        if any(mtime >= settled for _path, mtime in files):
            return False
        read = _texts([path for path, _mtime in files if path != plan["profiles"]], plan)
        if read is None:
            return False
        internal = [Path(folder) for folder in plan.get("internal_dirs") or ()]
        if any(model.get("begin") is not None for model in plan["answer"]["models"]) and any(
            _CLOCK.search(text)
            for path, text in read
            if not any(Path(path).is_relative_to(folder) for folder in internal)
        ):
            return False  # an etl_period_begin may follow the clock
        env_names = _env_names([text for _path, text in read], plan)
        if env_names is None:
            return False
        plan["env_names"] = sorted(env_names)
        plan["fingerprint"] = _hash(entries, capture.environ, env_names, plan)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _jinja_cache._private(folder):
            return False
        _prune(folder, time.time())
        path = folder / f"{name}.json"
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(plan, handle)
        os.replace(temporary, path)
    except Exception:  # no plan, never a failed command
        return False
    return True


def _prune(folder: Path, now: float) -> None:
    """Remove plans unused for UNUSED_DAYS, and only plans: the folder may be one a user named."""
    for path in folder.iterdir():
        if not _PLAN_FILE.match(path.name):
            continue
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > UNUSED_DAYS * 86400:
                path.unlink()


def _texts(paths: Iterable[str], plan: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    """(path, text) of each file dbt may render (but the package's own: it reads ETL_SESSION_*
    variables only, always in the fingerprint, and the clock only at run time); None when one
    cannot be read."""
    texts: list[tuple[str, str]] = []
    own = [Path(folder) for folder in plan.get("package_dirs") or ()]
    for path in paths:
        if Path(path).suffix.lower() not in _TEXT_SUFFIXES:
            continue
        if any(Path(path).is_relative_to(folder) for folder in own):
            continue
        try:
            texts.append((path, Path(path).read_text(encoding="utf-8", errors="replace")))
        except OSError:
            return None
    return texts


def _env_names(texts: list[str], plan: Mapping[str, Any]) -> set[str] | None:
    """The variables these texts and profiles.yml read with env_var('NAME') (but the
    password's); None when one names a variable otherwise."""
    texts = list(texts)
    try:
        profiles = yaml.safe_load(Path(plan["profiles"]).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    target = profiles[plan["profile"]]["outputs"][plan["output"]] if plan.get("password") else None
    texts += _strings(profiles, password_of=target)
    names: set[str] = set()
    for text in texts:
        named = [match.group(2) for match in _ENV_NAMED.finditer(text)]
        if len(named) != len(_ENV_CALL.findall(text)):
            return None
        names.update(named)
    return names


def _strings(value: Any, password_of: Any = None) -> list[str]:
    """Every text in a YAML document (dbt renders values, not keys), but the password of the
    mapping `password_of`."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [
            text
            for key, item in value.items()
            if value is not password_of or key not in _PASSWORD_KEYS
            for text in _strings(item, password_of)
        ]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item, password_of)]
    return []


def _describe(announced: Mapping[str, Any]) -> dict[str, Any] | None:
    """The plan of the coverage run in progress, from dbt's adapter; None when the connection
    cannot be made without dbt the way dbt makes it."""
    from dbt.adapters.factory import get_include_paths
    from dbt.flags import get_flags

    from etl_session.dbt_invoke import _current_adapter

    adapter = _current_adapter()
    config = adapter.config
    credentials = config.credentials
    kind = adapter.type()
    flags = get_flags()  # type: ignore[no-untyped-call]
    profiles = os.path.join(os.path.abspath(os.path.expanduser(flags.PROFILES_DIR)), "profiles.yml")
    if _secret_outside_password(profiles, config.profile_name, config.target_name):
        return None
    password: dict[str, Any] | None = None
    if kind == "duckdb":
        connect = _duckdb_connect(credentials)
    elif kind == "postgres":
        connect = _postgres_connect(credentials)
        password = _password_source(profiles, config.profile_name, config.target_name)
        if password is None or _password(
            password, profiles, config.profile_name, config.target_name
        ) != str(credentials.password):
            return None
    else:
        return None
    if connect is None:
        return None
    dirs: list[str] = []
    # dbt's default profiles.yml is the working folder's when there is one, else ~/.dbt's.
    home = os.path.join(os.path.expanduser("~"), ".dbt", "profiles.yml")
    files: list[str] = [profiles, os.path.join(os.getcwd(), "profiles.yml"), home]
    package_dirs: list[str] = []
    internal_dirs: list[str] = []
    internal = {os.path.abspath(path) for path in get_include_paths(kind)}
    for name, project in config.load_dependencies().items():
        # Not resolved: a package installed as a link (`local:`) is gone with its link.
        root = Path(os.path.abspath(project.project_root))
        found = [
            str(root / relative)
            for attribute in _RESOURCE_PATHS
            for relative in getattr(project, attribute, None) or ()
        ]
        dirs += found
        if name == _PACKAGE:
            package_dirs = found
        if os.path.abspath(project.project_root) in internal:
            internal_dirs += found  # dbt's own macros read the clock at run time only
        files += [str(root / name) for name in _TOP_FILES]
    listings = [os.path.join(os.path.abspath(config.project_root), config.packages_install_path)]
    plan_statements = announced["plan"]
    return {
        "version": VERSION,
        "adapter": kind,
        "connect": connect,
        "password": password,
        "profiles": profiles,
        "profile": config.profile_name,
        "output": config.target_name,
        "package_dirs": sorted(set(package_dirs)),
        "internal_dirs": sorted(set(internal_dirs)),
        "dirs": sorted(set(dirs)),
        "listings": listings,
        "files": sorted(set(files)),
        "statements": {
            "owners": str(plan_statements["owners"]),
            "sessions": str(plan_statements["sessions"]),
            "results": str(plan_statements["results"]) if plan_statements.get("results") else None,
        },
        "answer": {
            "source": announced["source"],
            "target": announced["target"],
            "models": announced["models"],
        },
    }


def _duckdb_connect(credentials: Any) -> dict[str, Any] | None:
    path = str(credentials.path)
    if path == ":memory:" or ":" in path.split("/")[0] or "://" in path:
        return None  # in memory, MotherDuck (md:), a remote URL
    if any(getattr(credentials, name, None) for name in _DUCKDB_EXTRAS):
        return None
    return {"path": os.path.abspath(os.path.expanduser(path))}


def _postgres_connect(credentials: Any) -> dict[str, Any] | None:
    if credentials.role or credentials.search_path:
        return None
    settings: dict[str, Any] = {
        "dbname": credentials.database,
        "user": credentials.user,
        "host": credentials.host,
        "port": credentials.port,
        "connect_timeout": min(credentials.connect_timeout or CONNECT_TIMEOUT, CONNECT_TIMEOUT),
    }
    if credentials.keepalives_idle:
        settings["keepalives_idle"] = credentials.keepalives_idle
    for name in ("sslmode", "sslcert", "sslkey", "sslrootcert", "application_name"):
        if getattr(credentials, name, None):
            settings[name] = getattr(credentials, name)
    return settings


def _output(profiles: str, profile: str, output: str) -> Mapping[str, Any]:
    document = yaml.safe_load(Path(profiles).read_text(encoding="utf-8")) or {}
    found = document[profile]["outputs"][output]
    if not isinstance(found, dict):
        raise ValueError(f"{profile}.outputs.{output} is not a mapping")
    return found


def _secret_outside_password(profiles: str, profile: str, output: str) -> bool:
    """Whether a field of the target other than the password reads a DBT_ENV_SECRET variable
    (or cannot be read): its value would be stored in the plan."""
    try:
        raw = _output(profiles, profile, output)
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError):
        return True
    return any(_SECRET in text for text in _strings(raw, password_of=raw))


def _password_source(profiles: str, profile: str, output: str) -> dict[str, Any] | None:
    """Where the target's password comes from: {'literal': True} or {'env': NAME, 'default':
    D}; None for anything else (dbt's path is then the only one)."""
    try:
        raw = _output(profiles, profile, output)
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError):
        return None
    value = next((raw[key] for key in _PASSWORD_KEYS if key in raw), None)
    if not isinstance(value, str):
        return None
    if "{{" not in value and "{%" not in value and "{#" not in value:
        return {"literal": True}
    match = _ENV_PASSWORD.match(value)
    if match is None:
        return None
    return {"env": match.group(2), "default": match.group(4)}


def _password(source: Mapping[str, Any], profiles: str, profile: str, output: str) -> str:
    if source.get("literal"):
        raw = _output(profiles, profile, output)
        return str(next(raw[key] for key in _PASSWORD_KEYS if key in raw))
    value = os.environ.get(str(source["env"]), source.get("default"))
    if value is None:
        raise KeyError(source["env"])
    return str(value)
