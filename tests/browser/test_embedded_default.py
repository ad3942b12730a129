"""`make run` with nothing configured, in Chromium: a data scientist submits a
handover whose accuracy claim is overstated, sees validation in progress, and
the page brings up the report by itself with the failure first.

The app is started as `make run` starts it: ``scripts/run`` itself (migrate,
seed the demo, a Celery worker and beat on kombu's filesystem broker,
runserver), in a process group of its own, with none of Handoff's settings in
its environment (this test process has DATABASE_URL and REDIS_URL; the child
does not). With nothing set, the SQLite file, the broker folder and the
uploads sit beside ``manage.py``, so the script runs in a copy of the
checkout in a temporary folder, its virtualenv linked: the developer's own
``db.sqlite3`` and ``.broker/`` are never touched.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
import requests
from django.conf import settings
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.plugins.browser import ACTION_TIMEOUT, LOCAL_HOSTS, NAVIGATION_TIMEOUT, log_in, timeout_ms
from tests.plugins.services import need
from tests.timing import WaitTimeout, scaled, wait_until

pytestmark = pytest.mark.browser

# Seconds, before scaling.
START_TIMEOUT = 180  # migrate, seed the demo (three validations in-process), start worker, beat and server
WORKER_TIMEOUT = 60  # from the server answering to the worker saying it is ready (it starts first)
VALIDATION_TIMEOUT = 60  # from submitting to the report on the page: broker pickup, the run, a poll
STOP_TIMEOUT = 20  # from SIGTERM to every process of the group gone (the worker shuts down warm)

EXPECTED = json.loads((settings.BASE_DIR / "handoff/handovers/demo_artifacts/expected.json").read_text())
# What the checkout holds that `make run` does not read, or that it writes.
NOT_COPIED = {".git", ".venv", "tests", "db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", ".broker", "media",
              "staticfiles", ".pytest_cache", ".ruff_cache"}
# The child's whole environment: enough to run a shell and Python, nothing of Handoff's.
PASSED_THROUGH = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _copy_checkout(target):
    def ignore(folder, names):
        at_root = Path(folder) == settings.BASE_DIR
        return {name for name in names if name == "__pycache__" or (at_root and name in NOT_COPIED)}

    shutil.copytree(settings.BASE_DIR, target, ignore=ignore, symlinks=True)
    (target / ".venv").symlink_to((settings.BASE_DIR / ".venv").resolve(), target_is_directory=True)


class EmbeddedApp:
    """``scripts/run`` running in ``folder`` (a copy of the checkout) on ``port``."""

    def __init__(self, folder, port, log_path):
        self.folder = folder
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.process = None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines=60):
        return f"--- last {lines} lines of scripts/run (worker, beat, server) ---\n" + "\n".join(
            self.log().splitlines()[-lines:])

    def group(self):
        """Every live process of the script's process group."""
        found = []
        for process in psutil.process_iter():
            try:
                if os.getpgid(process.pid) == self.process.pid and process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
            except (ProcessLookupError, psutil.Error):
                pass
        return found

    def serves(self):
        try:
            return requests.get(f"{self.url}/accounts/login/", timeout=scaled(2)).status_code == 200
        except requests.RequestException:
            return False

    def latest_run(self, version_label):
        """(state, worker, worker_pid) of the latest validation run of the handover ``version_label``."""
        with contextlib.closing(sqlite3.connect(self.folder / "db.sqlite3", timeout=scaled(20))) as db:
            return db.execute(
                "SELECT run.state, run.worker, run.worker_pid FROM validation_validationrun run"
                " JOIN handovers_revision revision ON revision.id = run.revision_id"
                " JOIN handovers_handover handover ON handover.id = revision.handover_id"
                " WHERE handover.version_label = ? ORDER BY run.id DESC LIMIT 1",
                (version_label,),
            ).fetchone()

    def stop(self):
        """SIGTERM to the whole group, then SIGKILL to whatever is left after STOP_TIMEOUT."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=scaled(STOP_TIMEOUT))
            wait_until(lambda: not self.group(), "every process of scripts/run to exit", timeout=STOP_TIMEOUT)
        except (subprocess.TimeoutExpired, WaitTimeout):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@contextlib.contextmanager
def explained_by(app):
    """A failure inside says what the app's processes last said."""
    try:
        yield
    except (AssertionError, PlaywrightError) as failure:
        raise AssertionError(f"{failure}\n\n{app.tail()}") from failure


@pytest.fixture
def embedded_app(tmp_path):
    """`make run` with nothing configured, on a free port; stopped, every process of it, at the end."""
    venv = settings.BASE_DIR / ".venv"
    need(venv.is_dir(), f"`make run` runs the virtualenv at {venv}; there is none")
    folder = tmp_path / "checkout"
    _copy_checkout(folder)
    port = _free_port()
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    # PORT is what scripts/run reads; TMPDIR keeps beat's schedule file in this test's folder.
    env.update(PORT=str(port), TMPDIR=str(tmp_path), PYTHONUNBUFFERED="1")
    assert "DATABASE_URL" not in env and "REDIS_URL" not in env
    app = EmbeddedApp(folder, port, tmp_path / "run.log")
    with open(app.log_path, "wb") as log:
        app.process = subprocess.Popen(["bash", "scripts/run"], cwd=folder, env=env, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
    try:
        wait_until(lambda: app.process.poll() is not None or app.serves(), f"`make run` to serve {app.url}",
                   timeout=START_TIMEOUT, interval=0.3, detail=app.tail)
        assert app.process.poll() is None, (
            f"scripts/run exited with status {app.process.returncode}\n\n{app.tail()}")
        wait_until(lambda: app.process.poll() is not None or re.search(r"celery@\S+ ready\.", app.log()),
                   "the embedded Celery worker to be ready", timeout=WORKER_TIMEOUT, detail=app.tail)
        assert app.process.poll() is None, (
            f"scripts/run exited with status {app.process.returncode}\n\n{app.tail()}")
        yield app
    finally:
        app.stop()


@pytest.fixture
def app_page(chromium, embedded_app):
    """A browser page on the embedded app; requests leaving the machine are blocked and recorded."""
    context = chromium.new_context(base_url=embedded_app.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(timeout_ms(ACTION_TIMEOUT))
    context.set_default_navigation_timeout(timeout_ms(NAVIGATION_TIMEOUT))
    external = []

    def guard(route):
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS or route.request.url.startswith("data:"):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    browser_page = context.new_page()
    browser_page.external_requests = external
    yield browser_page
    context.close()


def test_make_run_embedded_validates_in_its_worker_and_reports_the_failure_first(app_page, embedded_app):
    page, app = app_page, embedded_app
    claimed, measured = 0.990, EXPECTED["accuracy"]
    with explained_by(app):
        assert "Embedded broker: SQLite file db.sqlite3" in app.log()
        assert (app.folder / "db.sqlite3").is_file() and (app.folder / ".broker" / "messages").is_dir()

        # The demo's data scientist overstates the accuracy of the draft 1.3.0.
        log_in(page, "scientist")
        page.get_by_role("link", name="My handovers").click()
        page.get_by_role("link", name="screening-logreg 1.3.0").click()
        state = page.locator("#handover-state")
        expect(state.locator(".badge")).to_have_text("Draft")
        page.get_by_role("link", name="Edit terms").click()
        expect(page.get_by_label("Metric 1", exact=True)).to_have_value("accuracy")
        page.get_by_label("Claimed value 1", exact=True).fill(f"{claimed:.3f}")
        page.get_by_role("button", name="Save terms").click()
        expect(page.get_by_text("Saved the terms of revision 1.")).to_be_visible()

        polls = []
        page.on("response", lambda response: polls.append(response) if "/state/" in response.url else None)
        page.get_by_role("button", name="Submit revision 1").click()

        # The run waits for the worker, which takes it from the broker folder
        # (polled every second) and needs a moment more: the page that answers
        # the submit shows the run queued or running, with its progress bar.
        expect(state.locator(".badge")).to_have_text("Validating")
        expect(state.get_by_role("status")).to_contain_text(
            re.compile(r"Validation run \d+ is (queued|running)"))
        expect(state.get_by_role("progressbar", name="Validation in progress")).to_be_visible()

        # The page's own polling sees the run end and reloads itself with the report.
        expect(state.locator(".badge")).to_have_text(
            "Validation failed", timeout=timeout_ms(VALIDATION_TIMEOUT))
        assert any(response.headers.get("hx-refresh") == "true" for response in polls), (
            f"the report came without a poll asking the page to refresh; polls: {[r.url for r in polls]}")
        expect(state.get_by_role("progressbar")).to_have_count(0)

        report = page.locator("#validation")
        expect(report.locator(".summary-line")).to_contain_text("1 failed")
        expect(report.locator("tr.check-fail")).to_have_count(1)
        first = report.locator("table.report tbody tr").first
        expect(first).to_have_class("check-fail")
        expect(first.locator("th code")).to_have_text("metric.accuracy")
        expect(first.locator(".check-message")).to_have_text(
            f"accuracy claimed {claimed:.3f}, measured {measured:.3f} on {EXPECTED['rows']} rows:"
            " outside the tolerance of 0.005")
        expect(first.locator("td").nth(0)).to_have_text(f"{claimed:.4f}")
        expect(first.locator("td").nth(1)).to_have_text(f"{measured:.4f}")

        # It ran in make run's worker: a process of the script's group, named
        # as a Celery node; an eager run would carry the bare host name and
        # the web server's pid.
        run_state, worker, worker_pid = app.latest_run("1.3.0")
        assert run_state == "failed", run_state
        assert worker.startswith("celery@"), f"the run was not worked by a Celery worker but by {worker!r}"
        expect(report.locator(".summary-line")).to_contain_text(f"on {worker}")
        group = {process.pid: process.cmdline() for process in app.group()}
        assert worker_pid in group, f"pid {worker_pid} is not a process of scripts/run: {group}"
        assert "worker" in group[worker_pid] and any("celery" in part for part in group[worker_pid]), (
            f"pid {worker_pid} is not make run's Celery worker: {group[worker_pid]}")
        # The seed's in-process runs log the same sentence, without a pool process's name.
        worked = r"/ForkPoolWorker-\d+\] Task handoff\.validation\.tasks\.run_validation\[[^]]+\] succeeded"
        assert re.search(worked, app.log()), "make run's worker logged no finished validation"

        assert page.external_requests == []
