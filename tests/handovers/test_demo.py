import pytest
from django.core.management import call_command

from handoff.handovers.models import Artifact, Handover, Review

pytestmark = pytest.mark.django_db


def test_seed_demo_files_one_accepted_one_awaiting_review_and_one_draft_handover_once():
    call_command("seed_demo")
    call_command("seed_demo")

    states = dict(Handover.objects.values_list("version_label", "state"))
    assert states == {"1.0.0": "accepted", "1.1.0": "awaiting_review", "1.2.0": "draft"}
    assert Artifact.objects.count() == 9
    signed = Review.objects.get(revision__handover__version_label="1.0.0")
    assert set(signed.artifact_hashes) == {"model", "predictions", "labels"}
