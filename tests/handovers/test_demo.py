import pytest
from django.core.management import call_command

from handoff.handovers.models import Artifact, Handover, Review
from handoff.validation.models import ValidationRun

# Transactional: seed_demo validates on commit, as it does outside tests.
pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_files_deployed_awaiting_review_failed_and_draft_handovers_once():
    call_command("seed_demo")
    call_command("seed_demo")

    # 1.0.0 was accepted, then deployed (tests/incidents/test_demo.py).
    # The handovers of the demo's screening model (the demo contract's candidates are in tests/contracts).
    screening = Handover.objects.filter(model__name="screening-logreg")
    states = dict(screening.values_list("version_label", "state"))
    assert states == {"1.0.0": "deployed", "1.1.0": "awaiting_review", "1.2.0": "validation_failed",
                      "1.3.0": "draft"}
    assert Artifact.objects.filter(revision__handover__model__name="screening-logreg").count() == 12
    # Real reports: every check passed on the true claims; the overstated accuracy failed alone.
    runs = {run.revision.handover.version_label: run
            for run in ValidationRun.objects.filter(revision__handover__model__name="screening-logreg")}
    assert runs["1.1.0"].state == "passed" and runs["1.0.0"].state == "passed"
    assert not runs["1.1.0"].checks.exclude(status="pass").exists()
    failing = list(runs["1.2.0"].checks.exclude(status="pass").values_list("key", "status"))
    assert failing == [("metric.accuracy", "fail")]
    signed = Review.objects.get(revision__handover__version_label="1.0.0")
    assert set(signed.artifact_hashes) == {"model", "predictions", "labels"}
