"""One private PostgreSQL cluster per test process, with a migrated template
database; each fault module gets a database copied from it, a Redis of its
own, and the web app and workers it starts (``stack``)."""

import json
import secrets
import shutil
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.plugins.services import need

from .servers import (
    PrivatePostgres,
    PrivateRedis,
    Processes,
    clean_environment,
    manage,
    postgres_available,
    python,
)

TEMPLATE = "handoff_faults_template"
QUEUE = "faults"


@pytest.fixture(scope="session")
def private_postgres():
    ok, reason = postgres_available()
    need(ok, reason)
    need(bool(shutil.which("redis-server")), "redis-server is needed on PATH")
    pg = PrivatePostgres()
    try:
        pg.init()
        pg.start()
        pg.create_database(TEMPLATE)
        manage(clean_environment(DATABASE_URL=pg.url(TEMPLATE)), "migrate", "--noinput")
        static = Path(tempfile.mkdtemp(prefix="handoff-faults-static-"))
        manage(clean_environment(DEBUG="false", SECRET_KEY="collect", STATIC_ROOT=static),
               "collectstatic", "--noinput")
        pg.static_root = static
        yield pg
    finally:
        pg.destroy()
        if getattr(pg, "static_root", None):
            shutil.rmtree(pg.static_root, ignore_errors=True)


@dataclass
class Stack:
    """A database, a Redis and the processes of one module, and a way to read the database."""

    pg: PrivatePostgres
    database: str
    redis: PrivateRedis
    media: Path
    env: dict
    processes: Processes
    seeded: dict = field(default_factory=dict)

    def rows(self, query, params=()):
        """The rows ``query`` returns from the module's database (read as the test's own client)."""
        with closing(self.pg.connect(self.database)) as connection, connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()

    def value(self, query, params=()):
        return self.rows(query, params)[0][0]

    def seed(self, code):
        """Run ``code`` in a Django process on this stack (factories, services); it sets
        ``out`` to what the test needs, returned here as JSON."""
        printed = python(code + "\nimport json as _json\nprint('SEEDED' + _json.dumps(out))\n", self.env)
        return json.loads(printed.rsplit("SEEDED", 1)[1])


@pytest.fixture(scope="module")
def stack(private_postgres, tmp_path_factory, request):
    """Everything a fault module needs, production-like (DEBUG off, gunicorn), on servers of its own."""
    folder = tmp_path_factory.mktemp("faults")
    database = f"faults_{request.module.__name__.rsplit('.', 1)[-1]}_{secrets.token_hex(3)}"
    private_postgres.create_database(database, template=TEMPLATE)
    redis = PrivateRedis(folder)
    redis.start()
    media = folder / "media"
    media.mkdir()
    env = clean_environment(
        DATABASE_URL=private_postgres.url(database), REDIS_URL=redis.url, CELERY_TASK_DEFAULT_QUEUE=QUEUE,
        MEDIA_ROOT=media, STATIC_ROOT=private_postgres.static_root, DEBUG="false",
        SECRET_KEY="faults-" + secrets.token_hex(16), ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="false",
        HANDOFF_WEBHOOK_ALLOW_PRIVATE="true", HANDOFF_BASE_URL="http://127.0.0.1",
    )
    processes = Processes(env, folder, QUEUE)
    yield Stack(private_postgres, database, redis, media, env, processes)
    processes.close()
    redis.stop()
