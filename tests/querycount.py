"""Query counts that cannot lie.

A page or endpoint is measured at two sizes of the data it lists: with 2 of
each thing, then with 8. It must run the same number of queries at both (a
query per row, an N+1, shows as growth), stay under a stated ceiling, answer
200 and show every row that was added, so a page rendered empty cannot pass.

    @covers("handovers:list")
    def test_handovers_list_queries_do_not_grow_with_handovers(world):
        def grow(n):
            return [handover_in(project_of_mine(world.scientist)).model.name for _ in range(n)]

        assert_queries_do_not_grow(logged_in(world.scientist), "/handovers/", grow, ceiling=7)

``covers`` names the route a test measures (and fails the test if it never
measured it). ``tests/test_query_counts.py`` holds every such test and walks
the URL resolver, failing on any GET route that none covers.
"""

import functools
import re
from collections import Counter
from urllib.parse import urlsplit

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

SMALL, LARGE = 2, 8

# Route name -> names of the tests that measure it; filled as test modules are imported.
COVERED = {}
# The routes measured by the test running now (``covers`` checks its claim against them).
_measured = None


def covers(*routes):
    """Mark a test as the query-count test of ``routes`` (names as ``reverse`` takes them).

    The test fails unless it measured each of them with ``assert_queries_do_not_grow``."""

    def decorate(test):
        for route in routes:
            COVERED.setdefault(route, []).append(test.__name__)

        @functools.wraps(test)
        def checked(*args, **kwargs):
            global _measured
            _measured = measured = set()
            try:
                result = test(*args, **kwargs)
            finally:
                _measured = None
            unmeasured = sorted(set(routes) - measured)
            assert not unmeasured, f"{test.__name__} claims to cover {unmeasured} but never measured them"
            return result

        return checked

    return decorate


def assert_queries_do_not_grow(client, url, grow, *, ceiling, shown=True, small=SMALL, large=LARGE):
    """GET ``url`` with ``small`` of each listed thing, then with ``large``, and
    assert the query count is the same at both and at most ``ceiling``.

    ``grow(n)`` adds ``n`` more of everything the page lists (rows with their
    related rows: revisions, artifacts, claims, reviews, comments, members …)
    and returns strings those rows put on the page; every one must be in the
    response. ``shown=False`` is for a page that lists none of what grows (it
    proves the page does not read it row by row).

    Returns the two counts (small, large)."""
    expected = list(grow(small))
    _check_growth(expected, small, shown)
    client.get(url)  # fills per-process caches, so both sizes start alike
    queries_small = _measure(client, url, expected, shown)
    added = list(grow(large - small))
    _check_growth(added, large - small, shown)
    queries_large = _measure(client, url, expected + added, shown)

    path = urlsplit(url).path
    if _measured is not None:
        _measured.add(resolve(path).view_name)
    assert len(queries_small) == len(queries_large), _growth_report(
        path, small, large, queries_small, queries_large
    )
    assert len(queries_large) <= ceiling, (
        f"GET {path} ran {len(queries_large)} queries, over its ceiling of {ceiling}:\n"
        + _listing(queries_large)
    )
    return len(queries_small), len(queries_large)


def _check_growth(strings, n, shown):
    if shown:
        assert len(strings) >= n, (
            f"grow({n}) returned {len(strings)} strings to look for; return at least one per row it adds"
        )


def _measure(client, url, expected, shown):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, f"GET {url} answered {response.status_code}, not 200"
    if shown:
        body = response.content.decode()
        missing = [text for text in expected if text not in body]
        assert not missing, f"GET {url} does not show the rows it should list: {missing}"
    return [query["sql"] for query in context.captured_queries]


_CURSOR = re.compile(r'"_django_curs_\w+"')  # a server-side cursor's name changes every time
_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_LIST = re.compile(r"\(\?(?:, \?)*\)")


def shape(sql):
    """The SQL with its values taken out, so the same query for another row reads the same."""
    return _LIST.sub("(…)", _NUMBER.sub("?", _STRING.sub("?", _CURSOR.sub("cursor", sql))))


def _growth_report(path, small, large, queries_small, queries_large):
    lines = [
        f"GET {path} ran {len(queries_small)} queries with {small} of each row and "
        f"{len(queries_large)} with {large}: the count grows with the data (an N+1).",
        "Queries that ran a different number of times (small -> large, then one as it ran):",
    ]
    count_small, count_large = Counter(map(shape, queries_small)), Counter(map(shape, queries_large))
    for query_shape in sorted(set(count_small) | set(count_large), key=lambda s: -count_large[s]):
        if count_small[query_shape] != count_large[query_shape]:
            example = next(
                (sql for sql in queries_large + queries_small if shape(sql) == query_shape), query_shape
            )
            lines.append(f"  {count_small[query_shape]} -> {count_large[query_shape]}  {example}")
    lines.append(f"All {len(queries_large)} queries at the larger size:")
    lines.append(_listing(queries_large))
    return "\n".join(lines)


def _listing(queries):
    return "\n".join(f"  {number:>3}. {sql}" for number, sql in enumerate(queries, 1))
