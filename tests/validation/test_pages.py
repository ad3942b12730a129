"""What people see of validation: the report on the handover page (failures
first, skipped checks with why), live progress in the polled state partial,
pass/fail counts in the review queue, and the button to run it again."""

import hashlib
import re

from django.core.files.base import ContentFile
from django.utils import timezone

from handoff.handovers import services as handover_services
from handoff.handovers.models import Artifact, ClaimedMetric, Handover, HandoverState
from handoff.teams.models import Role
from handoff.validation.models import RunState, ValidationRun
from tests.factories import ProjectFactory, member


def _submit(scientist, revision, capture):
    with capture(execute=True):
        handover_services.submit_revision(scientist, revision)


def _client(client, user):
    client.force_login(user)
    return client


def test_the_report_leads_with_the_failure_and_its_sentence(
    client, draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = draft
    ClaimedMetric.objects.filter(revision=revision).update(claimed_value=0.970)
    _submit(scientist, revision, django_capture_on_commit_callbacks)
    html = _client(client, scientist).get(handover.get_absolute_url()).content.decode()
    report = html[html.index('id="validation"'):]
    rows = re.findall(r'<tr class="check-(\w+)">\s*<th scope="row"><code>([\w.]+)</code>', report)
    assert rows[0] == ("fail", "metric.accuracy"), rows
    assert all(status != "fail" for status, _ in rows[1:])
    assert "accuracy claimed 0.970, measured 0.959 on 171 rows: outside the tolerance of 0.005" in report
    assert "1</strong> failed" in report


def test_a_check_that_could_not_be_made_is_shown_prominently_with_why(
    client, draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = draft
    model = revision.artifacts.get(kind="model")
    content = b"\x80\x04\x95 a pickle, never loaded"
    model.file.save("model.pkl", ContentFile(content), save=False)
    Artifact.objects.filter(pk=model.pk).update(
        file=model.file.name, original_name="model.pkl", size=len(content),
        sha256=hashlib.sha256(content).hexdigest())
    _submit(scientist, revision, django_capture_on_commit_callbacks)
    # A skipped check does not block the review.
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.AWAITING_REVIEW
    html = _client(client, scientist).get(handover.get_absolute_url()).content.decode()
    note = html[html.index('role="note"'):]
    assert "could not be made" in note and "cannot be verified" in note and "model.format" in note


def test_the_state_partial_shows_which_check_runs_and_how_far(
    client, draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = draft
    with django_capture_on_commit_callbacks(execute=False):
        handover_services.submit_revision(scientist, revision)
    ValidationRun.objects.filter(revision=revision).update(
        state=RunState.RUNNING, started_at=timezone.now(),
        progress={"check": "data.ids", "done": 1200, "total": 5000})
    html = _client(client, scientist).get(f"/handovers/{handover.pk}/state/?was=validating").content.decode()
    assert "<code>data.ids</code>, 1,200 of 5,000 done" in html
    assert 'max="5000" value="1200"' in html
    assert 'hx-trigger="every 2s"' in html


def test_the_review_queue_counts_passes_and_failures_per_handover(
    client, draft, project, scientist, engineer, django_capture_on_commit_callbacks
):
    handover, revision = draft
    _submit(scientist, revision, django_capture_on_commit_callbacks)
    run = ValidationRun.objects.get(revision=revision)
    html = _client(client, engineer).get("/handovers/review-queue/").content.decode()
    assert f"{run.checks.filter(status='pass').count()} passed" in html


def test_the_owner_and_an_engineer_may_run_validation_again_from_the_page(
    client, draft, project, scientist, engineer, django_capture_on_commit_callbacks
):
    handover, revision = draft
    _submit(scientist, revision, django_capture_on_commit_callbacks)
    other = member(project, Role.DATA_SCIENTIST)
    page = handover.get_absolute_url()
    assert "Run validation again" in _client(client, scientist).get(page).content.decode()
    assert "Run validation again" not in _client(client, other).get(page).content.decode()
    assert client.post(f"/handovers/{handover.pk}/revalidate/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(client, engineer).post(f"/handovers/{handover.pk}/revalidate/")
    assert response.status_code == 302
    assert ValidationRun.objects.filter(revision=revision).count() == 2
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.AWAITING_REVIEW


def test_an_outsider_cannot_run_validation_again(client, draft):
    handover, _ = draft
    outsider = member(ProjectFactory(), Role.ML_ENGINEER)
    assert _client(client, outsider).post(f"/handovers/{handover.pk}/revalidate/").status_code == 404
