"""A disk cache of the Jinja templates dbt compiles, for etl-run's and etl-session's processes.

Every dbt process compiles each macro it calls from its source text (parse, generate Python,
compile it): about a quarter of a small load's time. Jinja's own bytecode cache
(`jinja2.FileSystemBytecodeCache`) keeps the compiled code on disk, keyed by the source's
checksum, but dbt builds its templates with `Environment.from_string`, which Jinja never
caches. `install()` routes the compilation of dbt's Jinja environments through that cache.
The compiled code is what Jinja would compile again: a changed macro has another checksum,
and the key also names the versions of Jinja and dbt-common and the environment's class.

Only the commands' own processes use it (`_entry`); the Python API leaves its host's dbt as it
is. The directory is `$ETL_SESSION_JINJA_CACHE`, else `$XDG_CACHE_HOME/etl-session/jinja`, else
`~/.cache/etl-session/jinja`; `ETL_SESSION_JINJA_CACHE=off` switches it off. Templates no
process has used for UNUSED_DAYS days are removed. Like a `.pyc`, what it holds is run as code,
so a directory another user can write is not used, and neither is one that cannot be written
(a read-only container): dbt then compiles as it always does.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

ENV_VAR = "ETL_SESSION_JINJA_CACHE"
_OFF = {"0", "off", "false", "no"}

# A template no process has used for this long is removed (looked for at most once a day), so
# the folder holds what today's projects and versions use, not every macro ever compiled. A hit
# renews the file's time.
UNUSED_DAYS = 30
_PRUNE_EVERY_SECONDS = 24 * 3600
_PRUNED_MARKER = ".pruned"

_lock = threading.Lock()
_state: dict[str, Any] = {"installed": None, "hits": 0, "misses": 0, "pruned": 0}


def cache_directory() -> Path | None:
    """Where compiled templates are kept, or None when the cache is switched off."""
    return cache_folder(ENV_VAR, "jinja")


def cache_folder(variable: str, name: str) -> Path | None:
    """$`variable` when set (None when it says off), else $XDG_CACHE_HOME/etl-session/`name`,
    else ~/.cache/etl-session/`name`: where one of etl-session's caches lives."""
    setting = os.environ.get(variable, "").strip()
    if setting.lower() in _OFF:
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "etl-session" / name


def stats() -> dict[str, Any]:
    """The directory in use (None when not installed) and this process's hits and misses."""
    with _lock:
        return dict(_state)


def _private(directory: Path) -> bool:
    """A directory this user owns and can write, and no other user can write."""
    try:
        status = directory.stat()
    except OSError:
        return False
    getuid = getattr(os, "getuid", None)  # none on Windows, whose folders are per user
    owned = getuid is None or (
        status.st_uid == getuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )
    return stat.S_ISDIR(status.st_mode) and owned and os.access(directory, os.W_OK | os.X_OK)


def _prune(directory: Path, now: float) -> int:
    """Remove the templates unused for UNUSED_DAYS (and writers' leftovers older than a day),
    at most once a day; how many files were removed."""
    marker = directory / _PRUNED_MARKER
    try:
        if now - marker.stat().st_mtime < _PRUNE_EVERY_SECONDS:
            return 0
    except FileNotFoundError:
        pass
    except OSError:
        return 0
    with contextlib.suppress(OSError):
        marker.touch()
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        if entry.name.endswith(".jinja"):
            cutoff = now - UNUSED_DAYS * 24 * 3600
        elif entry.name.endswith(".tmp"):  # a writer that died before its rename
            cutoff = now - _PRUNE_EVERY_SECONDS
        else:
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.remove(entry.path)
                removed += 1
        except OSError:
            pass  # another process removed it first
    return removed


def install() -> Path | None:
    """Route dbt's Jinja compilation through the disk cache; the directory, or None when the
    cache is off or its directory cannot be written (then dbt compiles as it always does)."""
    with _lock:
        if _state["installed"] is not None:
            return _state["installed"]  # type: ignore[no-any-return]
    directory = cache_directory()
    if directory is None:
        return None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    if not _private(directory):
        return None
    pruned = _prune(directory, time.time())

    from importlib import metadata

    import jinja2
    from dbt_common.clients import jinja as dbt_jinja
    from jinja2.bccache import Bucket, FileSystemBytecodeCache

    pattern = "%s.jinja"
    cache = FileSystemBytecodeCache(str(directory), pattern)
    salt = f"jinja2 {jinja2.__version__} dbt-common {metadata.version('dbt-common')}"
    environment_class = dbt_jinja.MacroFuzzEnvironment
    original: Callable[..., Any] = environment_class.compile

    def compile(
        self: jinja2.Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if (
            raw
            or defer_init
            or name is not None
            or filename is not None
            or not isinstance(source, str)
            or dbt_jinja.MACRO_DEBUGGING
        ):
            return original(self, source, name, filename, raw, defer_init)
        kind = f"{type(self).__module__}.{type(self).__qualname__}"
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        key = f"{salt} {kind} {digest}"
        try:
            bucket = cache.get_bucket(self, key, None, source)
        except Exception:  # a damaged file (a full disk once?): compile again and replace it
            bucket = Bucket(self, cache.get_cache_key(key), cache.get_source_checksum(source))
        if isinstance(bucket.code, CodeType):
            with contextlib.suppress(OSError):  # still in use: kept by the next pruning
                os.utime(directory / (pattern % bucket.key))
            with _lock:
                _state["hits"] += 1
            return bucket.code
        code = original(self, source, name, filename, raw, defer_init)
        bucket.code = code
        with contextlib.suppress(OSError):  # a full disk: the next process compiles it again
            cache.set_bucket(bucket)
        with _lock:
            _state["misses"] += 1
        return code

    environment_class.compile = compile  # type: ignore[method-assign]
    with _lock:
        _state["installed"] = directory
        _state["pruned"] = pruned
    return directory
