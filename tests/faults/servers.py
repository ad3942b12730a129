"""Real processes a fault test may stop, kill and start again: a PostgreSQL
cluster and a Redis server of the test's own (never the machine's shared
ones, which other tests use), the web app under gunicorn, Celery workers and
beat, all pointed at them through their environment as in production.

``tests/validation/test_resilience.py`` uses ``PrivateRedis``, ``kill_tree``
and ``Worker`` too.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import psutil

from tests.timing import scaled, wait_until

ROOT = Path(__file__).resolve().parents[2]
REDIS_START = 10  # seconds, scaled
POSTGRES_START = 60  # seconds, scaled
WORKER_START = 60  # seconds, scaled: from `celery worker` to "ready."
APP_START = 60  # seconds, scaled: from `gunicorn` to its first answer
STOP = 20  # seconds, scaled


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port, ping=None, expect=b""):
    """Whether something accepts TCP on 127.0.0.1:``port`` (and answers ``ping`` with ``expect``)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            if ping is None:
                return True
            s.sendall(ping)
            return s.recv(16).startswith(expect)
    except OSError:
        return False


def kill_tree(process, sig=signal.SIGKILL):
    """Signal ``process``'s whole group (a worker's main process and its pool) and wait for it."""
    try:
        members = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        members = []
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    for member_ in members:  # a child that left the group
        try:
            member_.send_signal(sig)
        except psutil.NoSuchProcess:
            pass
    try:
        process.wait(timeout=scaled(STOP))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    psutil.wait_procs(members, timeout=scaled(STOP))


class PrivateRedis:
    """A redis-server of the test's own on a free port, which it may stop and start again.
    Nothing is persisted: a restart loses every queued message, as a Redis without
    persistence (or a failover to an empty replica) does."""

    def __init__(self, folder):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process = None

    def _answers(self):
        return answers(self.port, b"PING\r\n", b"+PONG")

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(self._answers, f"redis-server on port {self.port} to answer", timeout=REDIS_START)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            kill_tree(self.process)
        self.process = None
        wait_until(lambda: not self._answers(), "the private Redis to stop", timeout=REDIS_START)


def postgres_bindir():
    """The folder of initdb and pg_ctl (pg_config's, else the newest under /usr/lib/postgresql)."""
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        if found and (Path(found) / "initdb").exists():
            return Path(found)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: [int(x) for x in p.parent.parent.name.split(".") if x.isdigit()])
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def postgres_available():
    """(ok, reason): initdb refuses to run as root, so as root it runs as the ``postgres`` user."""
    bindir = postgres_bindir()
    if bindir is None:
        return False, "PostgreSQL's initdb and pg_ctl are needed (apt-get install postgresql)"
    if os.geteuid() == 0 and not _postgres_user():
        return False, "running as root, and there is no postgres OS user to run initdb as"
    return True, ""


def _postgres_user():
    import pwd

    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, on a free port, trusting
    127.0.0.1; it may be restarted or stopped and started again."""

    def __init__(self):
        self.bindir = postgres_bindir()
        # Under /tmp itself (not pytest's 0700 folder of root): the postgres user must reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="handoff-faults-pg-"))
        self.data = self.folder / "data"
        self.log_path = self.folder / "postgres.log"
        self.port = free_port()
        self.user = _postgres_user() if os.geteuid() == 0 else None

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program, *args, timeout=POSTGRES_START):
        command = [str(self.bindir / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=scaled(timeout),
                              cwd=self.folder)
        assert done.returncode == 0, f"{program} failed:\n{done.stdout}\n{done.stderr}\n{self.log()}"
        return done

    def log(self):
        try:
            return self.log_path.read_text()[-3000:]
        except OSError:
            return ""

    def init(self):
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        with open(self.data / "postgresql.conf", "a") as conf:
            # A test cluster: no durability to pay for, sockets in its own folder.
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.folder}'\nfsync = off\n"
                       "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 100\n")

    def _pg_ctl(self, *args):
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w", "-t",
                  str(int(scaled(POSTGRES_START))), *args)

    def start(self):
        self._pg_ctl("start")

    def stop(self):
        self._pg_ctl("-m", "fast", "stop")

    def restart(self):
        self._pg_ctl("-m", "fast", "restart")

    def accepting(self):
        return answers(self.port)

    def connect(self, database="postgres"):
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)
        connection.autocommit = True
        return connection

    def create_database(self, name, template=None):
        with closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def destroy(self):
        try:
            if self.data.exists() and (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class Worker:
    """A process of the test's own (a Celery worker, beat, gunicorn) with its log."""

    def __init__(self, process, log_path, name=""):
        self.process = process
        self.log_path = log_path
        self.name = name

    def log(self):
        try:
            return Path(self.log_path).read_text()
        except OSError:
            return ""

    def alive(self):
        return self.process.poll() is None


def python(code, env, *, timeout=120):
    """Run ``code`` in a fresh Django process with ``env``; its stdout. Fails with its stderr."""
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code], env=env,
                          capture_output=True, text=True, timeout=scaled(timeout), cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-5000:]
    return done.stdout


def manage(env, *args, timeout=300):
    done = subprocess.run([sys.executable, "manage.py", *args], env=env, capture_output=True, text=True,
                          timeout=scaled(timeout), cwd=str(ROOT))
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_environment(**overrides):
    """os.environ without what configures Handoff's services, plus ``overrides``."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HANDOFF_", "CELERY_", "DATABASE_", "REDIS_", "EMAIL_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "handoff.settings", **{k: str(v) for k, v in overrides.items()}})
    return env


class Processes:
    """Starts Celery workers, beat and the web app with ``env``; kills every one at ``close``."""

    def __init__(self, env, folder, queue):
        self.env = env
        self.folder = Path(folder)
        self.queue = queue
        self.started = []

    def _popen(self, name, command, **settings):
        env = {**self.env, **{key: str(value) for key, value in settings.items()}}
        log_path = self.folder / f"{name}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT),
                                       start_new_session=True)
        started = Worker(process, log_path, name)
        self.started.append(started)
        return started

    def worker(self, name, *, concurrency=1, **settings):
        """A `celery worker` on the queue, ready when this returns."""
        worker = self._popen(name, [
            sys.executable, "-m", "celery", "-A", "handoff", "worker", "-Q", self.queue,
            "-n", f"{name}@{socket.gethostname()}", "--pool", "prefork", "--concurrency", str(concurrency),
            "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"], **settings)
        wait_until(lambda: not worker.alive() or " ready." in worker.log(), f"worker {name} to be ready",
                   timeout=WORKER_START, interval=0.2, detail=worker.log)
        assert worker.alive(), f"worker {name} exited:\n{worker.log()}"
        return worker

    def beat(self, **settings):
        return self._popen("beat", [sys.executable, "-m", "celery", "-A", "handoff", "beat", "--loglevel",
                                    "INFO", "--schedule", str(self.folder / "beat-schedule")], **settings)

    def app(self, *, workers=2, **settings):
        """gunicorn serving Handoff on a free port; its base URL once it answers."""
        port = free_port()
        app = self._popen("gunicorn", [
            sys.executable, "-m", "gunicorn", "handoff.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--timeout", "60", "--graceful-timeout", "5",
            "--access-logfile", "-"], **settings)
        wait_until(lambda: not app.alive() or answers(port), "gunicorn to answer", timeout=APP_START,
                   interval=0.2, detail=app.log)
        assert app.alive(), f"gunicorn exited:\n{app.log()}"
        app.url = f"http://127.0.0.1:{port}"
        return app

    def close(self):
        for started in reversed(self.started):
            if started.alive():
                kill_tree(started.process, signal.SIGTERM if started.name == "gunicorn" else signal.SIGKILL)


def sweeping(seconds=1, grace=2):
    """Settings for quick sweeps: what no worker took is enqueued again within seconds."""
    values = {"HANDOFF_VALIDATION_SWEEP_SECONDS": seconds, "HANDOFF_NOTIFY_SWEEP_SECONDS": seconds,
              "HANDOFF_METRICS_SWEEP_SECONDS": seconds, "HANDOFF_VALIDATION_QUEUE_GRACE_SECONDS": grace,
              "HANDOFF_NOTIFY_GRACE_SECONDS": grace, "HANDOFF_METRICS_GRACE_SECONDS": grace}
    return {name: str(value) for name, value in values.items()}


def elapsed(since):
    return time.monotonic() - since
