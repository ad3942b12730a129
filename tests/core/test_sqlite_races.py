"""The embedded default keeps the same promise as PostgreSQL: two engineers
accepting at once on SQLite get one 200 and one 409, never a 500 "database
is locked".

A server on a SQLite file runs in a process of its own
(``tests/sqlite_server.py``); it holds the first accept inside its
transaction while the second is sent. The second must wait for the first
(it has not answered while the first is held) and then be told it lost.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from django.conf import settings

from tests.timing import scaled, wait_until


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sqlite_server(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", MEDIA_ROOT=str(tmp_path / "media"),
               HANDOFF_BROKER_DIR=str(tmp_path / "broker"), DJANGO_SETTINGS_MODULE="handoff.settings")
    run = {"cwd": settings.BASE_DIR, "env": env, "capture_output": True, "text": True, "timeout": scaled(120)}
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
    assert migrated.returncode == 0, migrated.stderr
    made = subprocess.run([sys.executable, "tests/sqlite_server.py", "setup"], **run)
    assert made.returncode == 0, made.stderr
    world = json.loads(made.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen([sys.executable, "tests/sqlite_server.py", "serve", str(port), str(tmp_path)],
                              cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: (tmp_path / "ready").exists() or server.poll() is not None,
                   "the SQLite server to start", timeout=60)
        assert server.poll() is None, (tmp_path / "server.log").read_text()
        yield f"http://127.0.0.1:{port}", world, tmp_path
    finally:
        server.kill()
        server.wait()
        log.close()


def test_two_accepts_at_once_on_sqlite_give_one_200_and_one_409(sqlite_server):
    url, world, folder = sqlite_server
    accept = f"{url}/api/v1/handovers/{world['handover']}/accept/"
    results, finished = {}, {}

    def send(name, token):
        response = requests.post(accept, json={"comment": name}, headers={"Authorization": f"Token {token}"},
                                 timeout=scaled(60))
        results[name] = (response.status_code, response.json())
        finished[name] = time.monotonic()

    first = threading.Thread(target=send, args=("first", world["tokens"][0]))
    first.start()
    wait_until(lambda: (folder / "holding").exists(), "the first accept to hold its transaction")
    second = threading.Thread(target=send, args=("second", world["tokens"][1]))
    second.start()
    # The second waits on the first: it has not answered while the first is held.
    time.sleep(scaled(1.5))
    released = time.monotonic()
    assert "second" not in results, f"the second accept did not wait for the first: {results}"
    (folder / "release").write_text("")
    first.join(scaled(60))
    second.join(scaled(60))
    assert results["first"][0] == 200, results
    assert results["second"][0] == 409, results
    assert "accepted now" in results["second"][1]["detail"]
    assert finished["second"] >= released
