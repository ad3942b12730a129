"""gunicorn as deployed (gunicorn.conf.py): several processes whose request metrics add up
in one scrape (PROMETHEUS_MULTIPROC_DIR), and JSON access lines carrying the request id."""

import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.plugins.services import need, on_postgres, redis_url
from tests.plugins.worker import _database_url
from tests.timing import wait_until

# The test database exists only for a session whose tests ask for it.
pytestmark = pytest.mark.django_db

TOKEN = "gunicorn-test-operator-token"
REQUESTS = 24


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        from django.db import connection

        need(on_postgres(), "gunicorn in its own processes needs PostgreSQL (set DATABASE_URL=postgres://...)")
        database = _database_url(connection.settings_dict)
    from django.conf import settings

    folder = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url() or "",
           "DJANGO_SETTINGS_MODULE": "handoff.settings", "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "1", "PROMETHEUS_MULTIPROC_DIR": str(folder / "prom"),
           "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "HANDOFF_OPERATOR_TOKEN": TOKEN, "CONN_MAX_AGE": "0"}
    log_path = folder / "gunicorn.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "handoff.wsgi",
                                    "-c", "gunicorn.conf.py"], cwd=settings.BASE_DIR, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/accounts/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return process.poll() is not None

    try:
        wait_until(up, "gunicorn to answer", timeout=60, interval=0.3,
                   detail=lambda: log_path.read_text()[-3000:])
        assert process.poll() is None, log_path.read_text()[-3000:]
        yield base, log_path, folder / "prom"
    finally:
        process.terminate()
        process.wait(30)


def _count(text, **labels):
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "handoff_http_request_duration_seconds_count"
               and all(sample.labels.get(k) == v for k, v in labels.items()))


def test_every_scrape_adds_up_the_requests_of_every_gunicorn_process(gunicorn):
    base, _, prom = gunicorn
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: requests.get(f"{base}/api/v1/no-such-thing/", timeout=10),
                                range(REQUESTS)))
    statuses = [answer.status_code for answer in answers]
    assert statuses == [404] * REQUESTS
    # Both processes served some: the figure below is a sum, not one process's share.
    pids = {name.rsplit("_", 1)[1] for name in os.listdir(prom) if name.startswith("histogram_")}
    assert len(pids) == 2, sorted(os.listdir(prom))
    for _ in range(6):  # whichever process answers the scrape
        response = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert response.status_code == 200
        assert _count(response.text, route="api-not-found", status="404") == REQUESTS


def test_access_lines_are_json_with_the_request_id(gunicorn):
    base, log_path, _ = gunicorn
    response = requests.get(f"{base}/accounts/login/", headers={"X-Request-ID": "from-the-proxy-42"},
                            timeout=10)
    assert response.headers["X-Request-ID"] == "from-the-proxy-42"

    def access_line():
        for raw in log_path.read_text().splitlines():
            line = json.loads(raw) if raw.startswith("{") else {}
            if line.get("logger") == "gunicorn.access" and "request_id=from-the-proxy-42" in line["message"]:
                return line
        return None

    line = wait_until(access_line, "gunicorn's access line", timeout=10,
                      detail=lambda: log_path.read_text()[-2000:])
    assert '"GET /accounts/login/ HTTP/1.1" 200' in line["message"]
    assert line["level"] == "INFO"
