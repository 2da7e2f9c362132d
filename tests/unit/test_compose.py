"""docker-compose.yaml, checked offline (no Docker engine): the Compose specification's schema,
then what the deployment relies on: files it mounts exist, every variable is documented in
deploy/.env.example, no secret is written literally, the image matches the lock, healthchecks
and start-up order."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from segmentation.config import load_config

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
BIN = Path(sys.executable).parent

AIRFLOW_JOBS = {
    "airflow-scheduler": "SchedulerJob",
    "airflow-dag-processor": "DagProcessorJob",
    "airflow-triggerer": "TriggererJob",
}
LONG_RUNNING = {"postgres", "airflow-api-server", *AIRFLOW_JOBS}
ONE_SHOT = {"airflow-init"}
AIRFLOW_SERVICES = {"airflow-init", "airflow-api-server", *AIRFLOW_JOBS}

# ${VAR}, ${VAR:-default}, ${VAR:?message} and $VAR; $$ is a literal dollar for the container
VARIABLE = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_]\w*)|([A-Za-z_]\w*))")
SECRET_KEY = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|AIRFLOW_CONN_|SQL_ALCHEMY_CONN", re.I)
LITERAL_PASSWORD = re.compile(r"""password["']?\s*[=:]\s*["']?(?!\$\{)[^\s"',}]+""", re.I)
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?!\$\{)[^@\s]+@")


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _services() -> dict[str, dict[str, Any]]:
    return _compose()["services"]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _binds(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host source, container target) of each bind mount; named volumes are left out."""
    binds = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                binds.append((volume["source"], volume["target"]))
            continue
        # "source:target[:mode]", where the source may be a ${VAR:?message} with colons
        source, target = re.match(r"((?:\$\{[^}]*\}|[^:])+):([^:]+)", volume).groups()
        if source.startswith((".", "/", "~", "$")):
            binds.append((source, target))
    return binds


def _documented() -> set[str]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    return {m.group(1) for line in lines if (m := re.match(r"([A-Za-z_]\w*)=", line))}


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    exe = BIN / "check-jsonschema"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: pip install -c constraints.txt -e '.[dev]'")
    return subprocess.run(
        [str(exe), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def literal_secrets(text: str) -> list[str]:
    """Passwords written out in ``text`` rather than taken from a ${VAR}."""
    text = re.sub(r"\$\{[^}]*\}", "${}", text)  # a reference's own text is no literal
    return [m.group(0) for m in (*LITERAL_PASSWORD.finditer(text), *URL_PASSWORD.finditer(text))]


# --- the Compose specification -------------------------------------------------------------


def test_compose_file_matches_the_compose_specification() -> None:
    result = _check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda doc: doc.update(servics={}), "servics"),
        (lambda doc: doc["services"]["postgres"].update(ports="x"), "ports"),
        (lambda doc: doc["services"]["postgres"]["healthcheck"].update(interval=10), "interval"),
    ],
    ids=["unknown-top-level-key", "ports-not-a-list", "interval-not-a-duration"],
)
def test_schema_validation_rejects_a_broken_copy(
    change: Any, complaint: str, tmp_path: Path
) -> None:
    doc = _compose()
    change(doc)
    broken = tmp_path / "docker-compose.yaml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = _check_jsonschema(broken)
    assert result.returncode != 0
    assert complaint in result.stdout + result.stderr


# --- what the deployment relies on ---------------------------------------------------------


def test_services_are_the_expected_ones() -> None:
    assert set(_services()) == LONG_RUNNING | ONE_SHOT


def test_every_mounted_or_built_file_exists_in_the_repository() -> None:
    for name, service in _services().items():
        for source, target in _binds(service):
            if "$" in source:  # deployment-specific (the data folder): documented, not shipped
                continue
            assert (ROOT / source).exists(), f"{name} mounts {source} -> {target}: not in repo"
        build = service.get("build")
        if build:
            context = ROOT / build.get("context", ".")
            assert context.is_dir(), f"{name}: build context {context} is missing"
            assert (context / build.get("dockerfile", "Dockerfile")).is_file()
        for env_file in service.get("env_file") or []:
            path = env_file["path"] if isinstance(env_file, dict) else env_file
            assert (ROOT / path).is_file(), f"{name}: env_file {path} is missing"
    assert ENV_EXAMPLE.is_file()


def test_every_variable_is_documented_in_env_example_and_every_documented_one_used() -> None:
    used = {a or b for a, b in VARIABLE.findall(COMPOSE.read_text(encoding="utf-8"))}
    documented = _documented()
    assert used - documented == set(), "add these to deploy/.env.example"
    assert documented - used == set(), "deploy/.env.example documents variables nobody uses"


def test_no_secret_is_written_literally() -> None:
    assert literal_secrets(COMPOSE.read_text(encoding="utf-8")) == []
    for name, service in _services().items():
        for key, value in _environment(service).items():
            if SECRET_KEY.search(key) and not key.endswith("_FILE"):
                assert "${" in value, f"{name}: {key} must come from a ${{VAR}} in .env"


@pytest.mark.parametrize(
    "text",
    [
        "POSTGRES_PASSWORD: hunter2",
        'POSTGRES_PASSWORD: "hunter2"',
        "command: psql password=hunter2",
        "AIRFLOW_CONN_X: postgresql://user:hunter2@db:5432/x",
    ],
)
def test_the_secret_check_catches_literal_passwords(text: str) -> None:
    assert literal_secrets(text) != []


def test_env_example_holds_no_secret_values() -> None:
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if not line.startswith("#") and SECRET_KEY.search(key):
            assert value == "", f"deploy/.env.example gives {key} a value: leave secrets empty"


def test_airflow_image_matches_the_lock() -> None:
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    )
    version = pins["apache-airflow"]
    bases = re.findall(r"^FROM\s+apache/airflow:(\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert bases, "the Dockerfile builds FROM apache/airflow"
    images = [s.get("image", "") for s in _services().values()]
    tags = bases + [i.split(":", 1)[1] for i in images if i.startswith("apache/airflow:")]
    for tag in tags:
        assert tag.split("-")[0] == version, f"apache/airflow:{tag} but the lock has {version}"
    for name in AIRFLOW_SERVICES:
        assert "build" in _services()[name], f"{name} must run the image built from the lock"


def test_long_running_services_have_the_right_healthchecks() -> None:
    services = _services()
    for name in LONG_RUNNING:
        test = services[name].get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    api_check = " ".join(services["airflow-api-server"]["healthcheck"]["test"])
    assert "localhost:8080/api/v2/monitor/health" in api_check
    for name, job in AIRFLOW_JOBS.items():
        test = services[name]["healthcheck"]["test"]
        assert test[:4] == ["CMD", "airflow", "jobs", "check"], name
        assert ["--job-type", job] == test[test.index("--job-type") :][:2]
        assert "--local" in test
    for name in ONE_SHOT:
        assert services[name].get("restart") == "no"


def test_healthcheck_commands_exist_in_the_installed_airflow(tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    out = subprocess.run(
        [str(BIN / "airflow"), "jobs", "check", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    ).stdout
    assert "--local" in out
    for job in AIRFLOW_JOBS.values():
        assert job in out


def test_airflow_waits_for_a_healthy_postgres_and_a_completed_init() -> None:
    services = _services()
    assert services["airflow-init"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in AIRFLOW_SERVICES - ONE_SHOT:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name


def test_airflow_settings_are_shared_and_consistent() -> None:
    services = _services()
    for name in AIRFLOW_SERVICES:
        env = _environment(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager"), name
        assert "@postgres:5432/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
    # the metadata database the init script creates is the one Airflow connects to
    script = "\n".join(p.read_text() for p in (ROOT / "deploy" / "postgres-init").glob("*.sh"))
    assert "CREATE DATABASE airflow" in script
    assert "CREATE DATABASE warehouse" in script
    assert ("./deploy/postgres-init", "/docker-entrypoint-initdb.d") in _binds(services["postgres"])
    # the api-server (login) and the init (writes the admin's password) share the file
    passwords = _environment(services["airflow-init"])[
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
    ]
    for name in ("airflow-init", "airflow-api-server"):
        assert any(passwords.startswith(v.split(":")[1]) for v in services[name]["volumes"])


def test_segmentation_config_is_mounted_and_names_a_defined_connection() -> None:
    for name in AIRFLOW_SERVICES - ONE_SHOT:
        service = _services()[name]
        env = _environment(service)
        mounted = {target: source for source, target in _binds(service)}
        source = mounted[env["SEGMENTATION_CONFIG"]]
        cfg = load_config(ROOT / source)
        assert cfg.warehouse is not None and cfg.warehouse.conn_id, "warehouse.conn_id"
        assert f"AIRFLOW_CONN_{cfg.warehouse.conn_id.upper()}" in env, name
        # every path the pipeline reads or writes is inside a mounted folder
        for path in (cfg.home, Path(cfg.source.path)):
            assert any(str(path).startswith(target) for target in mounted), (name, path)
