"""The deployment files (compose.yaml, Dockerfile, .dockerignore, deploy/env.example,
gunicorn.conf.py) say what README's "Deploying" promises. No Docker engine runs here:
compose.yaml is read as YAML (and checked by `docker compose config` where a client has it)."""

import multiprocessing
import re
import runpy
import shutil
import subprocess

import pytest
import yaml
from django.conf import settings

ROOT = settings.BASE_DIR
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def command(service):
    return " ".join(service["command"])


def test_compose_has_each_process_and_each_engine(compose):
    services = compose["services"]
    assert {"web", "worker", "beat", "migrate", "postgres", "redis"} <= set(services)
    assert command(services["web"]) == "gunicorn handoff.wsgi -c gunicorn.conf.py"
    assert command(services["worker"]).startswith("celery -A handoff worker")
    assert command(services["beat"]).startswith("celery -A handoff beat")
    assert services["beat"]["deploy"]["replicas"] == 1
    assert command(services["migrate"]) == "python manage.py migrate --noinput"
    assert services["migrate"]["restart"] == "no"


def test_the_processes_start_after_migrate_on_healthy_engines(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }, name
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_engines_have_health_checks_and_named_volumes(compose):
    services = compose["services"]
    for name, data in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        assert services[name]["healthcheck"]["test"], name
        volume, path = services[name]["volumes"][0].split(":")
        assert path == data and volume in compose["volumes"], name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["web"]["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py"]
    # Artifacts on the local folder: web and worker share one volume.
    assert "media:/data/media" in services["web"]["volumes"]
    assert services["web"]["volumes"] == services["worker"]["volumes"]


def test_the_app_reads_its_settings_from_the_env_file_with_debug_off(compose):
    for name in (*APP_SERVICES, "migrate"):
        assert compose["services"][name]["env_file"] == "deploy/.env"
    example = (ROOT / "deploy" / "env.example").read_text()
    assert re.search(r"^DEBUG=0$", example, re.M)
    assert re.search(r"^SECRET_KEY=change-me$", example, re.M), "no real secret in the example"


def test_each_variable_the_env_example_sets_is_read_by_the_app():
    example = (ROOT / "deploy" / "env.example").read_text()
    sources = [ROOT / "gunicorn.conf.py", *(ROOT / "handoff").rglob("*.py")]
    read = "\n".join(path.read_text() for path in sources)
    compose_only = {"POSTGRES_PASSWORD"}
    for name in re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.M):
        assert name in compose_only or f'"{name}"' in read, f"env.example sets {name}; nothing reads it"


def test_the_object_store_is_optional_behind_a_profile(compose):
    assert compose["services"]["minio"]["profiles"] == ["s3"]
    example = (ROOT / "deploy" / "env.example").read_text()
    for name in ("AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_S3_REGION_NAME"):
        assert f"# {name}=" in example, name


def test_the_image_installs_the_lock_and_runs_without_privileges():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r /tmp/requirements.lock" in dockerfile
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "collectstatic --noinput" in dockerfile
    assert re.search(r"^HEALTHCHECK ", dockerfile, re.M)
    # No secret is an ENV of the image (the build-only key is the one RUN's environment).
    assert not re.search(r"^ENV[^#]*SECRET_KEY", dockerfile, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", "db.sqlite3*", "media", ".broker"} <= set(ignored)


def test_compose_config_validates_where_a_compose_client_exists(tmp_path):
    client = (["docker", "compose"] if shutil.which("docker") and subprocess.run(
        ["docker", "compose", "version"], capture_output=True).returncode == 0
        else ["docker-compose"] if shutil.which("docker-compose") else None)
    if client is None:
        pytest.skip("no docker compose client here: compose.yaml was read as YAML above")
    project = tmp_path / "project"
    (project / "deploy").mkdir(parents=True)
    shutil.copy(ROOT / "compose.yaml", project / "compose.yaml")
    shutil.copy(ROOT / "deploy" / "env.example", project / "deploy" / ".env")
    result = subprocess.run([*client, "--env-file", "deploy/.env", "-f", "compose.yaml", "config", "--quiet"],
                            cwd=project, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def _gunicorn_config(monkeypatch, **env):
    for name in ("GUNICORN_WORKERS", "WEB_CONCURRENCY", "GUNICORN_ACCESSLOG", "LOG_LEVEL", "LOG_FORMAT",
                 "DEBUG", "GUNICORN_MAX_REQUESTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_processes_default_to_two_per_core_plus_one(monkeypatch):
    assert _gunicorn_config(monkeypatch)["workers"] == 2 * multiprocessing.cpu_count() + 1
    assert _gunicorn_config(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3
    assert _gunicorn_config(monkeypatch, WEB_CONCURRENCY="3", GUNICORN_WORKERS="7")["workers"] == 7


def test_gunicorn_recycles_workers_with_jitter_and_logs_access(monkeypatch):
    config = _gunicorn_config(monkeypatch)
    assert (config["max_requests"], config["max_requests_jitter"]) == (1000, 100)
    assert config["accesslog"] == "-" and "x-request-id" in config["access_log_format"]
    assert "logconfig_dict" not in config  # DEBUG on: plain text
    assert _gunicorn_config(monkeypatch, GUNICORN_ACCESSLOG="off")["accesslog"] is None
    assert _gunicorn_config(monkeypatch, LOG_LEVEL="WARNING")["accesslog"] is None
    production = _gunicorn_config(monkeypatch, DEBUG="0")
    assert production["logconfig_dict"]["loggers"]["gunicorn.access"]["handlers"] == ["json"]


def test_gunicorn_refuses_a_process_count_that_is_not_a_number(monkeypatch):
    with pytest.raises(SystemExit, match="GUNICORN_WORKERS must be a whole number; got 'many'"):
        _gunicorn_config(monkeypatch, GUNICORN_WORKERS="many")
