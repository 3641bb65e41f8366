"""docker-compose.yml, the Dockerfile, the settings and the CLI agree (no Docker engine needed)."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer
import yaml
from typer.testing import CliRunner

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

INFRA_SERVICES = ("postgres", "redis", "mailpit")
# service -> the `recrue` command line it runs
APP_COMMANDS = {
    "migrate": ["recrue", "migrate"],
    "api": ["recrue", "api", "--host", "0.0.0.0"],  # the default host is 127.0.0.1
    "notifier": ["recrue", "worker", "notifier"],
    "scheduler": ["recrue", "worker", "scheduler"],
    "beat": ["recrue", "beat"],
}
APP_SERVICES = tuple(APP_COMMANDS)
WORKER_NAMES = {"notifier", "scheduler"}
CELERY_MODULES = {
    "notifier": "services.notifier.worker",
    "scheduler": "services.scheduler.worker",
}
VALID_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
HEALTHCHECK_KINDS = {"CMD", "CMD-SHELL", "NONE"}


# --- helpers ----------------------------------------------------------------------------------


def _load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


def _argv(value: str | list[Any]) -> list[str]:
    """A compose `command`/`test` in either form, as an argv list."""
    if isinstance(value, str):
        return shlex.split(value)
    return [str(part) for part in value]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """`environment` in its mapping or its list (`KEY=value`) form."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    """`depends_on` as {target: condition}; the short (list) form means service_started."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _interpolate(value: str) -> str:
    """Compose's `${VAR:-default}` / `${VAR-default}` with VAR unset: the default."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}", lambda m: m.group(1) or "", value)


def _ports(service: dict[str, Any]) -> list[tuple[int | None, int]]:
    """Published ports as (host, container) pairs, from the short or the long syntax."""
    pairs: list[tuple[int | None, int]] = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            published = entry.get("published")
            pairs.append((int(published) if published else None, int(entry["target"])))
            continue
        parts = str(entry).split("/", 1)[0].split(":")
        container = int(parts[-1])
        host = int(parts[-2]) if len(parts) >= 2 and parts[-2] else None
        pairs.append((host, container))
    return pairs


def _healthcheck_text(service: dict[str, Any]) -> str:
    return " ".join(_argv(service.get("healthcheck", {}).get("test") or []))


def _settings_env_names() -> set[str]:
    """Environment names Settings reads (case-insensitive, so compared upper-cased)."""
    prefix = Settings.model_config.get("env_prefix", "") or ""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        names.add(f"{prefix}{name}".upper())
        if isinstance(field.validation_alias, str):
            names.add(field.validation_alias.upper())
        if field.alias:
            names.add(field.alias.upper())
    return names


def _choices(param: Any) -> set[str] | None:
    """The accepted values of a choice parameter, or None when it takes any value."""
    descriptor = getattr(param, "type_descriptor", None)  # typer's own click copy
    if descriptor is not None:
        choices = descriptor.choices if descriptor.is_choice else None
    else:  # click.Choice
        choices = getattr(param.type, "choices", None)
    if choices is None:
        return None
    return {str(getattr(choice, "value", choice)) for choice in choices}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _exec_form(arguments: str) -> list[str]:
    if arguments.startswith("["):
        return [str(part) for part in json.loads(arguments)]
    return shlex.split(arguments)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def shared_env(compose: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in compose["x-recrue-env"].items()}


@pytest.fixture(scope="module")
def cli_app() -> typer.Typer:
    from services.cli import app

    return app


@pytest.fixture(scope="module")
def cli_group(cli_app: typer.Typer) -> Any:
    """The click group behind the Typer app.

    Typer >= 0.2x ships its own copy of click (`typer._click`), so the group, its parameters
    and its exceptions are checked by duck typing rather than against `click` classes.
    """
    group = typer.main.get_command(cli_app)
    assert isinstance(getattr(group, "commands", None), dict), (
        "services.cli:app must be a group of subcommands"
    )
    return group


# --- the compose file itself ------------------------------------------------------------------


def test_compose_parses_and_uses_the_compose_spec(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose specification has no `version:` key"
    assert isinstance(compose.get("services"), dict)
    assert isinstance(compose.get("x-recrue-env"), dict), "shared environment extension"


def test_every_expected_service_exists(services: dict[str, dict[str, Any]]) -> None:
    missing = (set(INFRA_SERVICES) | set(APP_SERVICES)) - set(services)
    assert not missing, f"missing services: {sorted(missing)}"


@pytest.mark.parametrize("name", INFRA_SERVICES)
def test_infrastructure_services_use_an_image(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    assert services[name].get("image"), f"{name} needs an image"
    assert "build" not in services[name]


def test_app_services_share_one_built_image(services: dict[str, dict[str, Any]]) -> None:
    images = {services[name].get("image") for name in APP_SERVICES}
    assert images == {"recrue:latest"}
    for name in APP_SERVICES:
        build = services[name].get("build")
        context = build.get("context") if isinstance(build, dict) else build
        assert context in (".", "./"), f"{name} must build the repository's Dockerfile"


def test_depends_on_targets_exist_with_valid_conditions(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for target, condition in _depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert condition in VALID_CONDITIONS, f"{name} -> {target}: bad condition {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{target} must not restart"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("migrate", {"postgres": "service_healthy"}),
        (
            "api",
            {
                "migrate": "service_completed_successfully",
                "redis": "service_healthy",
                "mailpit": "service_healthy",
            },
        ),
        (
            "notifier",
            {
                "migrate": "service_completed_successfully",
                "redis": "service_healthy",
                "mailpit": "service_healthy",
            },
        ),
        (
            "scheduler",
            {
                "migrate": "service_completed_successfully",
                "redis": "service_healthy",
                "mailpit": "service_healthy",
            },
        ),
        ("beat", {"migrate": "service_completed_successfully", "redis": "service_healthy"}),
    ],
)
def test_start_order(
    services: dict[str, dict[str, Any]], name: str, expected: dict[str, str]
) -> None:
    deps = _depends_on(services[name])
    for target, condition in expected.items():
        assert deps.get(target) == condition, f"{name} must wait for {target}: {condition}"


def test_migrate_runs_once(services: dict[str, dict[str, Any]]) -> None:
    # An unquoted `no` would be YAML's boolean false.
    assert services["migrate"].get("restart") == "no"


def test_every_healthcheck_has_a_test(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        healthcheck = service.get("healthcheck")
        if healthcheck is None or healthcheck.get("disable"):
            continue
        test = healthcheck.get("test")
        assert test, f"{name}: healthcheck without test"
        if isinstance(test, list):
            assert test[0] in HEALTHCHECK_KINDS, f"{name}: healthcheck test starts with {test[0]}"
            assert test[0] == "NONE" or len(test) > 1, f"{name}: empty healthcheck command"


@pytest.mark.parametrize("name", ["postgres", "redis", "mailpit", "api", "notifier", "scheduler"])
def test_services_that_others_wait_for_have_healthchecks(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    assert _healthcheck_text(services[name]), f"{name} needs a healthcheck"


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else volume.split(":")[0]
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} uses undeclared volume {source}"


# --- environment and ports --------------------------------------------------------------------


def test_app_services_get_the_shared_environment(
    services: dict[str, dict[str, Any]], shared_env: dict[str, str]
) -> None:
    for name in APP_SERVICES:
        env = _environment(services[name])
        assert set(shared_env) <= set(env), f"{name} lacks {sorted(set(shared_env) - set(env))}"


def test_environment_names_are_settings_fields(services: dict[str, dict[str, Any]]) -> None:
    known = _settings_env_names()
    for name in APP_SERVICES:
        unknown = {key for key in _environment(services[name]) if key.upper() not in known}
        assert not unknown, f"{name}: not fields of shared.settings.Settings: {sorted(unknown)}"


REQUIRED = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}$")  # ${VAR:?message}


def test_secret_key_has_no_default(shared_env: dict[str, str]) -> None:
    # Compose refuses to start without the operator's own SECRET_KEY (a default forges links).
    required = REQUIRED.match(shared_env["SECRET_KEY"])
    assert required and required.group(1) == "SECRET_KEY", shared_env["SECRET_KEY"]


def test_environment_values_validate(shared_env: dict[str, str]) -> None:
    operator = {"SECRET_KEY": "s" * 48}  # what the operator sets (no default, see above)
    values = {
        key.lower(): operator[key] if REQUIRED.match(value) else _interpolate(value)
        for key, value in shared_env.items()
    }
    settings = Settings(_env_file=None, **values)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.broker_url.startswith("redis://")
    assert settings.smtp_host == "mailpit"
    assert settings.smtp_port == 1025
    assert settings.secret_key == operator["SECRET_KEY"]


def test_api_port_matches_api_port_setting(
    services: dict[str, dict[str, Any]], shared_env: dict[str, str]
) -> None:
    api_port = int(_environment(services["api"]).get("API_PORT", shared_env["API_PORT"]))
    ports = _ports(services["api"])
    assert (api_port, api_port) in ports, f"api must publish {api_port}:{api_port}, has {ports}"
    assert f"127.0.0.1:{api_port}/healthz" in _healthcheck_text(services["api"])
    public = urlsplit(shared_env["PUBLIC_BASE_URL"])
    assert public.port == api_port, "PUBLIC_BASE_URL points at the published API port"


def test_mailpit_ports(services: dict[str, dict[str, Any]], shared_env: dict[str, str]) -> None:
    assert (8025, 8025) in _ports(services["mailpit"])
    assert shared_env["SMTP_HOST"] == "mailpit"
    assert shared_env["SMTP_PORT"] == "1025"


# --- commands against the CLI -----------------------------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_command(services: dict[str, dict[str, Any]], name: str) -> None:
    assert _argv(services[name]["command"]) == APP_COMMANDS[name]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_command_exists_in_cli(
    services: dict[str, dict[str, Any]],
    cli_app: typer.Typer,
    cli_group: Any,
    name: str,
) -> None:
    program, sub, *args = _argv(services[name]["command"])
    assert program == "recrue"
    assert sub in cli_group.commands, f"`recrue {sub}` is not a command of services.cli:app"

    result = CliRunner().invoke(cli_app, [sub, *args, "--help"])
    assert result.exit_code == 0, result.output

    # Parse (without running) the exact arguments: wrong or missing arguments raise here,
    # which `--help` alone would not catch.
    command = cli_group.commands[sub]
    with cli_group.make_context("recrue", [sub, *args]) as parent:
        command.make_context(sub, list(args), parent=parent)


def test_worker_takes_one_choice_argument(cli_group: Any) -> None:
    worker = cli_group.commands["worker"]
    arguments = [param for param in worker.params if param.param_type_name == "argument"]
    assert len(arguments) == 1, "`recrue worker` takes one argument: notifier|scheduler"
    choices = _choices(arguments[0])
    assert choices is not None, "the worker argument must be a choice (an Enum)"
    assert choices >= WORKER_NAMES

    with (
        cli_group.make_context("recrue", ["worker", "no-such-worker"]) as parent,
        pytest.raises(Exception) as raised,
    ):
        worker.make_context("worker", ["no-such-worker"], parent=parent)
    assert getattr(raised.value, "exit_code", None) == 2, f"not a usage error: {raised.value!r}"


def test_celery_modules_in_healthchecks_are_importable(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, module in CELERY_MODULES.items():
        found = re.findall(r"(?:-A|--app)[ =](\S+)", _healthcheck_text(services[name]))
        assert found == [module], f"{name} healthcheck should ping {module}, found {found}"
        assert importlib.util.find_spec(module) is not None, f"{module} is not importable"


# --- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_runs_the_recrue_script() -> None:
    final = _final_stage()
    entrypoint = [_exec_form(args) for keyword, args in final if keyword == "ENTRYPOINT"]
    cmd = [_exec_form(args) for keyword, args in final if keyword == "CMD"]
    argv = (entrypoint[-1] if entrypoint else []) + (cmd[-1] if cmd else [])
    assert argv[:2] == ["recrue", "api"], f"default process should be `recrue api`, is {argv}"
    assert "--host" in argv and argv[argv.index("--host") + 1] == "0.0.0.0", (
        "in a container the API must listen on all interfaces"
    )

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert scripts.get("recrue") == "services.cli:app"


def test_dockerfile_image_layout(shared_env: dict[str, str]) -> None:
    instructions = _dockerfile_instructions()
    final = _final_stage()
    assert all(args.split()[0] == "python:3.11-slim" for kw, args in instructions if kw == "FROM")
    assert any(kw == "RUN" and "pip install ." in args for kw, args in instructions)

    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must not run as root"
    workdirs = [args for keyword, args in final if keyword == "WORKDIR"]
    assert workdirs and workdirs[-1] == "/app"
    env_text = " ".join(args for keyword, args in final if keyword == "ENV")
    assert re.search(r"\bVAR_DIR=/app/var\b", env_text)
    exposed = {
        port.split("/")[0]
        for keyword, args in final
        if keyword == "EXPOSE"
        for port in args.split()
    }
    assert shared_env["API_PORT"] in exposed


def test_dockerignore_keeps_local_state_out() -> None:
    entries = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "var", ".git"} <= entries
    assert any("__pycache__" in entry for entry in entries)
