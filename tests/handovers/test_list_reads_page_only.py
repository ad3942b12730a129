"""The handover lists read revisions for the rows of the page only.

A list that aggregates over every visible revision before it paginates grows
with the data (issue 16: 42 ms at 4 000 handovers, 134 ms at 20 000). Each
query the page and the API run is replayed under EXPLAIN ANALYZE on
PostgreSQL: no scan of the revisions table in any of its plans may read more
rows than the handovers on the page have revisions (the aggregate over every
visible revision read all of them, in the count and in the page's query)."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import HandoverFactory, ModelFactory, RevisionFactory

HANDOVERS, REVISIONS_EACH, PAGE = 30, 2, 10

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plans")


@pytest.fixture
def thirty_handovers(project, scientist):
    model = ModelFactory(project=project, owner=scientist)
    for _ in range(HANDOVERS):
        handover = HandoverFactory(model=model)
        for number in range(1, REVISIONS_EACH + 1):
            RevisionFactory(handover=handover, number=number)


def largest_revision_scan(sql):
    """The most rows one scan of handovers_revision read in the plan of ``sql`` (rows × loops)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def walk(node):
        scans_revisions = node.get("Relation Name") == "handovers_revision"
        own = node["Actual Rows"] * node["Actual Loops"] if scans_revisions else 0
        return max([own, *(walk(child) for child in node.get("Plans", []))])

    return walk(plan[0]["Plan"])


def queries_of(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in context.captured_queries]


def largest_revision_scan_of(client, url):
    """(the largest scan of revisions among the list's queries, that query)."""
    scans = [(largest_revision_scan(sql), sql) for sql in queries_of(client, url)
             if sql.startswith("SELECT") and "handovers_revision" in sql]
    return max(scans, default=(0, ""))


@pytest.mark.parametrize("url", [
    f"{reverse('handovers:list')}",
    f"{reverse('handovers:mine')}",
    f"/api/v1/handovers/?page_size={PAGE}",
])
def test_handover_list_reads_revisions_of_the_page_only(thirty_handovers, scientist, url, monkeypatch):
    monkeypatch.setattr("handoff.handovers.views.PAGE_SIZE", PAGE)
    client = Client()
    client.force_login(scientist)

    most, query = largest_revision_scan_of(client, url)

    assert most <= PAGE * REVISIONS_EACH, (
        f"a query of {url} read {most} revision rows to show {PAGE} handovers "
        f"(at most {PAGE * REVISIONS_EACH}: theirs; there are {HANDOVERS * REVISIONS_EACH} in all):\n{query}"
    )


def test_api_list_still_shows_each_handovers_current_revision(thirty_handovers, scientist):
    client = Client()
    client.force_login(scientist)

    rows = client.get(f"/api/v1/handovers/?page_size={PAGE}").json()["results"]

    assert len(rows) == PAGE
    assert {row["current_revision"] for row in rows} == {REVISIONS_EACH}
