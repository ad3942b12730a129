import pytest

pytest_plugins = [
    "tests.plugins.services",
    "tests.plugins.smtp",
    "tests.plugins.worker",
    "tests.plugins.browser",
]


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Each test stores uploads in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session", autouse=True)
def _a_cache_folder_of_this_test_process(tmp_path_factory):
    """Without Redis the cache is a folder (the embedded default's); each test process gets
    its own, so one clearing it between its tests leaves the other's alone."""
    from django.conf import settings
    from django.test.utils import override_settings

    if "filebased" not in settings.CACHES["default"]["BACKEND"]:
        yield
        return
    override = override_settings(CACHES={"default": {**settings.CACHES["default"],
                                                     "LOCATION": str(tmp_path_factory.mktemp("cache"))}})
    override.enable()
    yield
    override.disable()


@pytest.fixture(autouse=True)
def _no_cached_figures_from_an_earlier_test():
    """A rolled-back test leaves its cached dashboard figures behind; on SQLite the next
    test may reuse its ids, so the folder cache starts empty. (Redis: PostgreSQL never
    reuses an id, and the keys name the test database.)"""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    if not isinstance(caches["default"], RedisCache):
        caches["default"].clear()


@pytest.fixture(autouse=True)
def _eager_tasks_by_default():
    """Tests run Celery tasks in-process unless they ask for the real worker
    (the ``celery_worker`` fixture), so no task is left queued in Redis."""
    from handoff.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def pytest_configure(config):
    from django.conf import settings

    # Password hashing is deliberately slow; tests log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _quick_model_timing(monkeypatch):
    """Time models for a moment, not the seconds a stable p95 takes in a
    worker: many tests submit a revision and validation runs in-process.
    (A real worker process keeps the full timing.)"""
    from handoff.validation.checks import runtime

    monkeypatch.setattr(runtime, "TIMING", runtime.Timing(
        warmup_runs=1, min_runs=5, min_seconds=0.05, max_runs=200, max_seconds=2, timeout_seconds=60))
