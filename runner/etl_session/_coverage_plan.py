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
_OFF = {"0", "off", "false", "no"}
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
)
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
    setting = os.environ.get(ENV_VAR, "").strip()
    if setting.lower() in _OFF:
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "etl-session" / "coverage"


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
    """A hash of the files under the plan's dirs, of its files, and of the variables dbt may
    read (but the password's: a wrong one is a refused login, which falls back to dbt)."""
    return _hash(_entries(plan["dirs"], plan["files"]), environ, plan["env_names"], plan)


def _hash(
    entries: list[list[Any]],
    environ: Mapping[str, str],
    env_names: Iterable[str],
    plan: Mapping[str, Any],
) -> str:
    names = set(env_names) | {name for name in environ if name.startswith(_PREFIXES)}
    names.discard(str((plan.get("password") or {}).get("env")))
    variables = [[name, environ.get(name)] for name in sorted(names)]
    text = json.dumps([entries, variables], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _entries(dirs: Iterable[str], files: Iterable[str]) -> list[list[Any]]:
    """[path, modification time (ns), size] of every file under `dirs` (dbt follows links),
    sorted; [path, None, None] for what does not exist."""
    found: list[list[Any]] = []
    for path in sorted(set(files)):
        found.append(_entry(path))
    for folder in sorted(set(dirs)):
        _walk(folder, found, set())
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
        entries = _entries(plan["dirs"], plan["files"])
        settled = (capture.started - SETTLED_SECONDS) * 1e9
        if any(mtime is not None and mtime >= settled for _path, mtime, _size in entries):
            return False
        read = [path for path, mtime, _size in entries if mtime is not None]
        env_names = _env_names([path for path in read if path != plan["profiles"]], plan)
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
    for path in folder.iterdir():
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > UNUSED_DAYS * 86400:
                path.unlink()


def _env_names(paths: Iterable[str], plan: Mapping[str, Any]) -> set[str] | None:
    """The variables these files and profiles.yml read with env_var('NAME') (but the
    password's); None when one names a variable otherwise."""
    texts: list[str] = []
    own = plan.get("package_root")
    for path in paths:
        if Path(path).suffix.lower() not in _TEXT_SUFFIXES:
            continue
        if own and Path(path).is_relative_to(own):
            continue  # the package reads ETL_SESSION_* only (_PREFIXES)
        try:
            texts.append(Path(path).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None
    try:
        profiles = yaml.safe_load(Path(plan["profiles"]).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    if plan.get("password") is not None:
        output = profiles[plan["profile"]]["outputs"][plan["output"]]
        output = {k: v for k, v in output.items() if k not in ("password", "pass")}
        profiles = {
            **profiles,
            plan["profile"]: {
                **profiles[plan["profile"]],
                "outputs": {**profiles[plan["profile"]]["outputs"], plan["output"]: output},
            },
        }
    texts += _strings(profiles)
    names: set[str] = set()
    for text in texts:
        named = [match.group(2) for match in _ENV_NAMED.finditer(text)]
        if len(named) != len(_ENV_CALL.findall(text)):
            return None
        names.update(named)
    return names


def _strings(value: Any) -> list[str]:
    """Every text in a YAML document (dbt renders values, not keys)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _describe(announced: Mapping[str, Any]) -> dict[str, Any] | None:
    """The plan of the coverage run in progress, from dbt's adapter; None when the connection
    cannot be made without dbt the way dbt makes it."""
    from dbt.flags import get_flags

    from etl_session.dbt_invoke import _current_adapter

    adapter = _current_adapter()
    config = adapter.config
    credentials = config.credentials
    kind = adapter.type()
    flags = get_flags()  # type: ignore[no-untyped-call]
    profiles = str(Path(flags.PROFILES_DIR).expanduser().resolve() / "profiles.yml")
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
    files: list[str] = [profiles]
    package_root = None
    for name, project in config.load_dependencies().items():
        root = Path(project.project_root).resolve()
        if name == _PACKAGE:
            package_root = str(root)
        for attribute in _RESOURCE_PATHS:
            dirs += [str(root / relative) for relative in getattr(project, attribute, None) or ()]
        files += [str(root / name) for name in _TOP_FILES]
    plan_statements = announced["plan"]
    return {
        "version": VERSION,
        "adapter": kind,
        "connect": connect,
        "password": password,
        "profiles": profiles,
        "profile": config.profile_name,
        "output": config.target_name,
        "package_root": package_root,
        "dirs": sorted(set(dirs)),
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
        "connect_timeout": credentials.connect_timeout,
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


def _password_source(profiles: str, profile: str, output: str) -> dict[str, Any] | None:
    """Where the target's password comes from: {'literal': True} or {'env': NAME, 'default':
    D}; None for anything else (dbt's path is then the only one)."""
    try:
        raw = _output(profiles, profile, output)
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError):
        return None
    value = raw.get("password", raw.get("pass"))
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
        return str(raw.get("password", raw.get("pass")))
    value = os.environ.get(str(source["env"]), source.get("default"))
    if value is None:
        raise KeyError(source["env"])
    return str(value)
