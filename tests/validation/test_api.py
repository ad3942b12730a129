"""The validation API: runs with their checks, the handover's latest run,
and running validation again."""

from rest_framework.test import APIClient

from handoff.handovers import services as handover_services
from handoff.handovers.models import ClaimedMetric
from handoff.teams.models import Role
from handoff.validation.models import ValidationRun
from tests.factories import MEASURED, api_token, member

API = "/api/v1"


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def _submitted(draft, scientist, capture):
    handover, revision = draft
    ClaimedMetric.objects.filter(revision=revision).update(claimed_value=0.970)
    with capture(execute=True):
        handover_services.submit_revision(scientist, revision)
    return handover, ValidationRun.objects.get(revision=revision)


def test_a_run_lists_every_check_with_claimed_beside_measured(
    draft, scientist, django_capture_on_commit_callbacks
):
    handover, run = _submitted(draft, scientist, django_capture_on_commit_callbacks)
    body = _api(scientist).get(f"{API}/validation-runs/{run.pk}/").json()
    summary = (body["handover"], body["revision"], body["state"], body["failed"])
    assert summary == (handover.pk, 1, "failed", 1)
    accuracy = next(check for check in body["checks"] if check["check"] == "metric.accuracy")
    assert accuracy["status"] == "fail"
    assert (accuracy["claimed"], accuracy["tolerance"]) == (0.970, 0.005)
    assert abs(accuracy["measured"] - MEASURED["accuracy"]) < 1e-9
    assert "measured 0.959 on 171 rows" in accuracy["message"]
    assert {"integrity", "model.format", "data.ids"} <= {check["check"] for check in body["checks"]}


def test_runs_are_listed_by_handover_and_the_handover_carries_its_latest(
    draft, scientist, engineer, django_capture_on_commit_callbacks
):
    handover, run = _submitted(draft, scientist, django_capture_on_commit_callbacks)
    client = _api(engineer)
    listed = client.get(f"{API}/validation-runs/", {"handover": handover.pk}).json()
    assert [r["id"] for r in listed["results"]] == [run.pk]
    assert client.get(f"{API}/validation-runs/", {"handover": handover.pk + 1000}).json()["count"] == 0
    summary = client.get(f"{API}/handovers/{handover.pk}/").json()["validation"]
    assert {k: summary[k] for k in ("id", "number", "state", "failed")} == {
        "id": run.pk, "number": 1, "state": "failed", "failed": 1}
    row = next(h for h in client.get(f"{API}/handovers/").json()["results"] if h["id"] == handover.pk)
    assert row["validation"]["id"] == run.pk
    assert client.get(f"{API}/validation-runs/", {"handover": "0.5"}).status_code == 400


def test_the_owner_or_an_engineer_runs_it_again_through_the_api(
    draft, project, scientist, engineer, django_capture_on_commit_callbacks
):
    handover, first = _submitted(draft, scientist, django_capture_on_commit_callbacks)
    other = member(project, Role.DATA_SCIENTIST)
    assert _api(other).post(f"{API}/handovers/{handover.pk}/revalidate/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = _api(engineer).post(f"{API}/handovers/{handover.pk}/revalidate/")
    assert response.status_code == 200, response.json()
    assert response.json()["validation"]["number"] == 2
    assert ValidationRun.objects.filter(revision=first.revision).count() == 2
