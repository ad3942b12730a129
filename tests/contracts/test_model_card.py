"""The model card of an accepted handover: Markdown with YAML front matter in
the Hugging Face layout, built from what was signed and measured, never from
what was claimed; a download, a printable page and the API's Markdown."""

import pytest
import yaml
from django.urls import reverse

from handoff.contracts import services
from handoff.handovers import services as handover_services
from handoff.handovers.models import HandoverState
from handoff.validation.models import CheckResult, ValidationRun
from tests.factories import CANDIDATES_MEASURED, MEASURED, filed_candidate, ready_draft

pytestmark = pytest.mark.django_db


def split_card(text):
    """(metadata dict, Markdown body) of a card: YAML between the first two ``---`` lines."""
    lines = text.split("\n")
    assert lines[0] == "---", "a card opens with its YAML front matter"
    end = lines.index("---", 1)
    return yaml.safe_load("\n".join(lines[1:end])), "\n".join(lines[end + 1:])


def _submitted(contract, scientist, name, capture, **kwargs):
    with capture(execute=True):
        handover = filed_candidate(contract, scientist, name, submit=True, **kwargs)
    handover.refresh_from_db()  # validated as the submission committed
    return handover


@pytest.fixture
def selected(contract, scientist, engineer, django_capture_on_commit_callbacks):
    """scaled-logreg selected over logreg."""
    _submitted(contract, scientist, "logreg", django_capture_on_commit_callbacks)
    chosen = _submitted(contract, scientist, "scaled-logreg", django_capture_on_commit_callbacks)
    services.select(engineer, chosen, comment="Best accuracy within the budget.")
    chosen.refresh_from_db()
    assert chosen.state == HandoverState.ACCEPTED
    return chosen


def _card(client, handover):
    response = client.get(reverse("contracts:model_card_markdown", args=[handover.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    return response.content.decode()


def _measured_metrics(handover):
    run = ValidationRun.objects.filter(revision__handover=handover).order_by("-number").first()
    return {c.key.removeprefix("metric."): c.measured
            for c in CheckResult.objects.filter(run=run, key__startswith="metric.")}


def test_the_selected_candidates_card_parses_and_its_metrics_are_the_measured_ones(client, selected,
                                                                                    scientist):
    client.force_login(scientist)
    meta, body = split_card(_card(client, selected))

    assert (meta["model_name"], meta["version"], meta["library_name"]) == ("scaled-logreg", "1.0.0",
                                                                           "scikit-learn")
    (result,) = meta["model-index"][0]["results"]
    assert result["task"]["type"] == "binary_classification"
    assert result["dataset"]["type"] == "validation"
    metrics = {m["type"]: m["value"] for m in result["metrics"]}
    measured = _measured_metrics(selected)
    assert metrics == measured and set(metrics) == {"accuracy", "roc_auc"}
    oracle = CANDIDATES_MEASURED["scaled-logreg"]
    assert metrics["accuracy"] == pytest.approx(oracle["accuracy"], abs=1e-9)
    assert metrics["roc_auc"] == pytest.approx(oracle["roc_auc"], abs=1e-6)
    assert meta["measured"]["parameters"] == oracle["parameters"]
    assert meta["measured"]["latency_p95_ms"] > 0 and meta["measured"]["peak_memory_mb"] >= 0
    assert meta["measured"]["environment"]["threads"] >= 1

    signed = meta["handoff"]
    assert signed["accepted_by"] == "eli" and signed["revision"] == 1
    assert set(signed["artifact_hashes"]) == {"model", "predictions", "labels"}
    contract = signed["contract"]
    assert contract["version"] == 1
    assert {s["signer"] for s in contract["signatures"]} == {"dana", "eli"}

    for heading in ("## Intended use", "## Limitations", "## Validation set", "## Fairness",
                    "## Parameters, latency and memory", "## Signatures and artifact hashes"):
        assert heading in body
    assert "Flags screening images for a second read." in body
    assert signed["labels_sha256"] in body


def test_a_claim_off_by_less_than_the_tolerance_never_shows_as_the_measured_value(
        client, contract, scientist, engineer, django_capture_on_commit_callbacks):
    # logreg measures 0.95906; 0.963 is within the contract's tolerance (0.005), so it passes.
    handover = _submitted(contract, scientist, "logreg", django_capture_on_commit_callbacks,
                          claims={"accuracy": 0.963})
    assert handover.state == HandoverState.AWAITING_REVIEW
    services.select(engineer, handover)
    client.force_login(engineer)
    text = _card(client, handover)
    meta, _ = split_card(text)
    metrics = {m["type"]: m["value"] for m in meta["model-index"][0]["results"][0]["metrics"]}
    assert metrics["accuracy"] == pytest.approx(CANDIDATES_MEASURED["logreg"]["accuracy"], abs=1e-9)
    assert "0.963" not in text


def test_an_accepted_handover_without_a_contract_has_a_card_with_its_fairness_per_slice(
        client, project, scientist, engineer, django_capture_on_commit_callbacks):
    handover, revision = ready_draft(project=project, owner=scientist, task_type="binary_classification",
                                     framework="scikit-learn", fairness_slice_column="size",
                                     fairness_max_gap=0.07, intended_use="Second reads only.")
    with django_capture_on_commit_callbacks(execute=True):
        handover_services.submit_revision(scientist, revision)
    handover_services.accept_revision(engineer, revision, comment="Holds up.")
    client.force_login(scientist)
    meta, body = split_card(_card(client, handover))
    metrics = {m["type"]: m["value"] for m in meta["model-index"][0]["results"][0]["metrics"]}
    assert metrics == {"accuracy": pytest.approx(MEASURED["accuracy"], abs=1e-9)}
    assert "contract" not in meta["handoff"]
    assert "| small | 86 | 0.9884 |" in body and "| large | 85 | 0.9294 |" in body
    assert "0.05896" in body  # the gap, measured
    assert "labels.csv" in body  # not blind: the file is named beside its hash


@pytest.mark.parametrize("route", ["contracts:model_card_markdown", "contracts:model_card", "api"])
def test_no_card_before_the_handover_is_accepted(client, contract, scientist, route,
                                                 django_capture_on_commit_callbacks):
    handover = _submitted(contract, scientist, "logreg", django_capture_on_commit_callbacks)
    client.force_login(scientist)
    url = (f"/api/v1/handovers/{handover.pk}/model-card/" if route == "api"
           else reverse(route, args=[handover.pk]))
    response = client.get(url)
    assert response.status_code == 409
    assert "The model card is issued once the handover is accepted." in response.content.decode()


@pytest.mark.parametrize("route", ["contracts:model_card_markdown", "contracts:model_card", "api"])
def test_outsider_gets_404_for_a_card(client, selected, outsider, route):
    client.force_login(outsider)
    url = (f"/api/v1/handovers/{selected.pk}/model-card/" if route == "api"
           else reverse(route, args=[selected.pk]))
    assert client.get(url).status_code == 404


def test_the_printable_page_and_the_api_give_the_same_card(client, selected, engineer):
    client.force_login(engineer)
    text = _card(client, selected)
    api = client.get(f"/api/v1/handovers/{selected.pk}/model-card/")
    assert api.status_code == 200 and api["Content-Type"].startswith("text/markdown")
    assert api.content.decode() == text
    page = client.get(reverse("contracts:model_card", args=[selected.pk])).content.decode()
    assert "<h1>Model card: scaled-logreg 1.0.0</h1>" in page
    assert "<h2>Parameters, latency and memory</h2>" in page
    assert "model-index:" in page  # the metadata, shown as the file holds it
    assert "css/model_card.css" in page  # its print styles


def test_the_handover_page_links_to_the_card_once_accepted(client, contract, scientist, engineer,
                                                           django_capture_on_commit_callbacks):
    handover = _submitted(contract, scientist, "logreg", django_capture_on_commit_callbacks)
    client.force_login(scientist)
    card = reverse("contracts:model_card", args=[handover.pk])
    assert card not in client.get(handover.get_absolute_url()).content.decode()
    services.select(engineer, handover)
    assert card in client.get(handover.get_absolute_url()).content.decode()
