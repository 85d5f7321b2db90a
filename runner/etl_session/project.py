"""The user's dbt project as etl-run and etl-session see it before dbt runs, and the package
operations they call through `dbt run-operation` (Python never writes SQL). Imports dbt only
lazily, through etl_session.dbt_invoke.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from etl_session.errors import UsageError

if TYPE_CHECKING:
    from etl_session.dbt_invoke import Invocation


#: The dbt vars that carry a session's context (highest precedence in the package's macros).
SESSION_VARS = (
    "etl_period_start",
    "etl_period_end",
    "etl_period_timezone",
    "etl_run_id",
    "etl_source",
    "etl_period_chunks",
)


@dataclass(frozen=True)
class DbtProject:
    """What is read from the user's dbt project before anything runs."""

    directory: Path
    name: str
    profiles_dir: Path | None
    packages_dir: Path
    timezone_var: str | None
    declares_packages: bool
    profile: str | None = None
    package_vars: Mapping[str, Any] = field(default_factory=dict)
    locked_packages: tuple[str, ...] = field(default_factory=tuple)
    #: Session vars (etl_period_start, ...) that dbt_project.yml sets, at the top level or
    #: under a project's scope: they would override what etl-run sets for every load.
    reserved_vars: tuple[str, ...] = field(default_factory=tuple)

    def needs_deps(self) -> bool:
        """True when the project declares packages that are not installed."""
        if not self.declares_packages:
            return False
        if not self.locked_packages:
            return not self.packages_dir.is_dir() or not any(self.packages_dir.iterdir())
        return any(not (self.packages_dir / name).exists() for name in self.locked_packages)


def load_project(
    project_dir: str | os.PathLike[str],
    profiles_dir: str | os.PathLike[str] | None = None,
    tool: str = "etl-run",
) -> DbtProject:
    """Read dbt_project.yml (and package-lock.yml); a one-line UsageError when that fails."""
    directory = Path(project_dir).expanduser().resolve()
    project_file = directory / "dbt_project.yml"
    if not project_file.is_file():
        raise UsageError(
            f"no dbt_project.yml in {directory}: "
            f"run {tool} inside a dbt project or pass --project-dir"
        )
    try:
        project = yaml.safe_load(project_file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{project_file} is not valid YAML: {' '.join(str(exc).split())}") from exc
    if not isinstance(project, dict) or not project.get("name"):
        raise UsageError(f"{project_file} has no project name")

    profiles: Path | None = None
    if profiles_dir is not None:
        profiles = Path(profiles_dir).expanduser().resolve()
    elif os.environ.get("DBT_PROFILES_DIR"):
        profiles = Path(os.environ["DBT_PROFILES_DIR"]).expanduser().resolve()
    elif (directory / "profiles.yml").is_file():
        profiles = directory
    if profiles is not None and not (profiles / "profiles.yml").is_file():
        raise UsageError(f"no profiles.yml in {profiles}: pass --profiles-dir")

    packages_dir = directory / str(project.get("packages-install-path", "dbt_packages"))
    declares = any((directory / name).is_file() for name in ("packages.yml", "dependencies.yml"))
    locked: list[str] = []
    lock_file = directory / "package-lock.yml"
    if lock_file.is_file():
        with contextlib.suppress(yaml.YAMLError, AttributeError, TypeError):
            for entry in (yaml.safe_load(lock_file.read_text()) or {}).get("packages", []):
                if isinstance(entry, dict) and entry.get("name"):
                    locked.append(str(entry["name"]))
    project_vars = project.get("vars") if isinstance(project.get("vars"), dict) else {}
    timezone_var = project_vars.get("etl_session_timezone") if project_vars else None
    scopes = [project_vars or {}]
    scopes += [value for value in (project_vars or {}).values() if isinstance(value, dict)]
    reserved = [name for name in SESSION_VARS if any(name in scope for scope in scopes)]
    return DbtProject(
        directory=directory,
        name=str(project["name"]),
        profiles_dir=profiles,
        packages_dir=packages_dir,
        timezone_var=str(timezone_var) if timezone_var else None,
        declares_packages=declares,
        profile=str(project["profile"]) if project.get("profile") else None,
        package_vars={
            key: value
            for key, value in (project_vars or {}).items()
            if isinstance(key, str) and key.startswith("etl_session")
        },
        locked_packages=tuple(locked),
        reserved_vars=tuple(reserved),
    )


def default_timezone(explicit: str | None, project_var: str | None) -> str:
    """The zone periods are read in: the option, else $ETL_SESSION_TIMEZONE, else the project
    var etl_session_timezone, else UTC (one rule for etl-run and etl-session)."""
    return explicit or os.environ.get("ETL_SESSION_TIMEZONE") or project_var or "UTC"


def check_vars(text: str | None) -> None:
    """--vars must be a YAML mapping; a one-line UsageError otherwise."""
    if text is None:
        return
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise UsageError(f"--vars is not valid YAML: {problem}") from exc
    if not isinstance(parsed, dict):
        raise UsageError(f"--vars must be a YAML mapping such as '{{key: value}}', not {text!r}")


@dataclass(frozen=True)
class Warehouse:
    """A project, a target and vars: where every dbt call of one command goes."""

    project: DbtProject
    target: str | None = None
    vars: str | None = None

    def flags(self) -> list[str]:
        """The flags every dbt call shares (the same project, profile, target and vars)."""
        flags = ["--project-dir", str(self.project.directory)]
        if self.project.profiles_dir is not None:
            flags += ["--profiles-dir", str(self.project.profiles_dir)]
        if self.target:
            flags += ["--target", self.target]
        if self.vars:
            flags += ["--vars", self.vars]
        return flags

    def operation(
        self,
        macro: str,
        args: Mapping[str, Any],
        *,
        stdout_to_stderr: bool = False,
        on_announcement: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> Invocation:
        """Run a package macro with `dbt run-operation`; its announcements carry the answer.

        dbt's JSON artifacts are not written: target/run_results.json and manifest.json keep
        describing the last load for the tools that read them, not an operation of ours."""
        from etl_session import dbt_invoke

        return dbt_invoke.invoke(
            [
                # These operations report through our own output, not dbt's console.
                "--log-level",
                "none",
                "run-operation",
                f"etl_session.{macro}",
                "--args",
                json.dumps(dict(args), default=str),
                "--no-write-json",
                *self.flags(),
            ],
            stdout_to_stderr=stdout_to_stderr,
            on_announcement=on_announcement,
        )


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Let a repair finish even if Ctrl-C is pressed again: a session must not stay running."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to manage
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def adapter_type(project: DbtProject, target: str | None = None) -> str | None:
    """The adapter type of the target a load would use, read from profiles.yml without dbt;
    None when it cannot be told that way (no file, Jinja in the names, an unknown target)."""
    directory = project.profiles_dir or Path.home() / ".dbt"
    try:
        profiles = yaml.safe_load((directory / "profiles.yml").read_text()) or {}
        profile = profiles.get(project.profile) if project.profile else None
        if not isinstance(profile, dict):
            return None
        name = target or os.environ.get("DBT_TARGET") or profile.get("target")
        outputs = profile.get("outputs") or {}
        output = outputs.get(name) if isinstance(name, str) and "{{" not in name else None
        kind = output.get("type") if isinstance(output, dict) else None
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        return None
    return kind if isinstance(kind, str) and "{{" not in kind else None
