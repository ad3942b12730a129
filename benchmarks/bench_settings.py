"""Settings for the page benchmark (``benchmarks/pages.py``): the product's own,
with a URL conf that adds a bare view (the framework's floor) beside the
product's routes, and cookies sent over plain HTTP on loopback (no TLS proxy
in front, as in ``benchmarks/ingest.py``)."""

from handoff.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
