"""Bad input to the handovers API is a 4xx with a message on the field, never
a 500, and changes nothing. Each case here was a 500 found by fuzzing the API
with schemathesis (tests/core/test_api_fuzz.py)."""

import pytest
from rest_framework.test import APIClient

from handoff.handovers.models import Handover, Model

API = "/api/v1"

# Integers that Python holds but a float, a PostgreSQL integer column or a
# SQLite INTEGER does not: each was a 500 (OverflowError or DataError).
TOO_LARGE = [
    ("parameter_count", 10**400),
    ("parameter_count", 2**63),
    ("validation_row_count", 10**400),
    ("validation_row_count", 2**31),
    ("latency_batch_size", 10**30),
    ("latency_batch_size", 2**31),  # fits SQLite, not PostgreSQL's integer
]


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(("field", "value"), TOO_LARGE)
def test_a_number_too_large_for_its_column_is_a_400_on_patch(draft, scientist, field, value):
    handover, revision = draft
    before = getattr(revision, field)

    response = client_for(scientist).patch(
        f"{API}/handovers/{handover.pk}/revisions/1/", {field: value}, format="json"
    )

    assert response.status_code == 400, response.content
    assert "too large" in response.json()[field][0]
    revision.refresh_from_db()
    assert getattr(revision, field) == before


@pytest.mark.parametrize(("field", "value"), TOO_LARGE)
def test_a_number_too_large_for_its_column_is_a_400_on_create(draft, scientist, field, value):
    handover, _ = draft

    body = {"model": handover.model_id, "version_label": "9.9.9", field: value}

    response = client_for(scientist).post(f"{API}/handovers/", body, format="json")

    assert response.status_code == 400, response.content
    assert "too large" in response.json()[field][0]
    assert not Handover.objects.filter(version_label="9.9.9").exists()


@pytest.mark.parametrize("field", ["claimed_value", "minimum", "maximum"])
def test_a_claimed_metric_beyond_any_float_is_a_400(draft, scientist, field):
    handover, revision = draft
    claim = {"claimed_value": 0.9, field: 10**400}

    response = client_for(scientist).patch(
        f"{API}/handovers/{handover.pk}/revisions/1/", {"claimed_metrics": {"accuracy": claim}}, format="json"
    )

    assert response.status_code == 400, response.content
    assert "claimed_metrics" in response.json()
    assert list(revision.claimed_metrics.values_list("metric", flat=True)) == ["accuracy"]


def test_whole_numbers_above_two_to_the_53_are_kept_exactly(draft, scientist):
    """A float holds 53 bits: 2**53 + 1 must not come back as 2**53."""
    handover, revision = draft
    count = 2**53 + 1

    response = client_for(scientist).patch(
        f"{API}/handovers/{handover.pk}/revisions/1/",
        {"parameter_count": count, "latency_batch_size": 2**31 - 1}, format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["parameter_count"] == count
    revision.refresh_from_db()
    assert (revision.parameter_count, revision.latency_batch_size) == (count, 2**31 - 1)


@pytest.mark.parametrize("given", ["²", "١٢", "9" * 30])
def test_a_project_that_is_not_a_slug_or_an_id_is_a_404_when_registering_a_model(scientist, given):
    body = {"project": given, "name": "churn"}

    response = client_for(scientist).post(f"{API}/models/", body, format="json")

    assert response.status_code == 404, response.content
    assert response.json() == {"detail": f"No project {given!r} that you can see."}
    assert not Model.objects.filter(name="churn").exists()


@pytest.mark.parametrize("resource", ["handovers", "models"])
# "²" is a digit to str.isdigit() but not to int(); 30 nines are beyond a bigint.
@pytest.mark.parametrize("given", ["²", "9" * 30])
def test_a_project_filter_that_is_not_a_slug_or_an_id_finds_nothing(draft, scientist, resource, given):
    client = client_for(scientist)
    client.raise_request_exception = False

    response = client.get(f"{API}/{resource}/", {"project": given})

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


def test_nullable_people_are_null_in_the_schema_too(draft, scientist):
    """A draft has no reviewer and no submitter yet; the schema says so
    (``reviewer``/``submitted_by`` are nullable), as clients generated from it expect."""
    handover, _ = draft
    body = client_for(scientist).get(f"{API}/handovers/{handover.pk}/").json()
    schema = client_for(scientist).get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]

    assert body["reviewer"] is None and body["revisions"][0]["submitted_by"] is None
    assert schema["HandoverList"]["properties"]["reviewer"]["nullable"] is True
    assert schema["Handover"]["properties"]["reviewer"]["nullable"] is True
    assert schema["Revision"]["properties"]["submitted_by"]["nullable"] is True


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "revisions/1/", {"parameter_count": 10**400}),
        ("patch", "revisions/1/", ["not", "an", "object"]),
        ("post", "comments/", {"body": None}),
        ("post", "accept/", "not an object"),
        ("post", "request-changes/", {"comment": 10**400}),
    ],
)
def test_outsider_gets_404_before_a_bad_body_is_read(draft, outsider, method, path, body):
    handover, _ = draft

    send = getattr(client_for(outsider), method)

    response = send(f"{API}/handovers/{handover.pk}/{path}", body, format="json")

    assert response.status_code == 404, response.content


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latency_p95_ms", "12.5"), ("latency_p95_ms", True), ("parameter_count", "7"),
        ("parameter_count", 7.5), ("latency_batch_size", 8.0), ("framework_version", 2),
        ("intended_use", ["a"]),
    ],
)
def test_a_value_of_another_json_type_is_a_400_on_its_field(draft, scientist, field, value):
    """The schema says number, integer or string: DRF alone read "12.5", true, 8.0 as numbers, 2 as text."""
    handover, revision = draft
    before = getattr(revision, field)

    response = client_for(scientist).patch(
        f"{API}/handovers/{handover.pk}/revisions/1/", {field: value}, format="json"
    )

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field, "detail"]
    revision.refresh_from_db()
    assert getattr(revision, field) == before


def test_a_claimed_value_given_as_text_is_a_400(draft, scientist):
    handover, revision = draft
    claim = {"claimed_value": "0.9"}

    response = client_for(scientist).patch(
        f"{API}/handovers/{handover.pk}/revisions/1/", {"claimed_metrics": {"accuracy": claim}}, format="json"
    )

    assert response.status_code == 400, response.content
    errors = {"accuracy": {"claimed_value": ["A valid number is required."]}}
    assert response.json()["claimed_metrics"] == errors
    assert list(revision.claimed_metrics.values_list("metric", flat=True)) == ["accuracy"]


@pytest.mark.parametrize(("path", "body"), [("comments/", {"body": 5}), ("comments/", {"body": True})])
def test_text_given_as_another_json_type_is_a_400(draft, scientist, path, body):
    handover, _ = draft

    response = client_for(scientist).post(f"{API}/handovers/{handover.pk}/{path}", body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["body"] == ["Not a valid string."]
    assert not handover.comments.exists()


def test_text_longer_than_the_schema_says_is_a_400_even_when_stripping_would_shorten_it(draft, scientist):
    """maxLength counts what is sent; 32 characters and a space are 33."""
    handover, revision = draft

    response = client_for(scientist).patch(
        f"{API}/handovers/{handover.pk}/revisions/1/", {"framework_version": "1" * 32 + " "}, format="json"
    )

    assert response.status_code == 400, response.content
    assert "framework_version" in response.json()
    revision.refresh_from_db()
    assert revision.framework_version != "1" * 32


@pytest.mark.parametrize(("method", "path"), [("post", "comments/"), ("patch", "revisions/1/")])
def test_handover_bodies_are_json_only(draft, scientist, method, path):
    """A form cannot say null nor carry claimed metrics: the schema lists JSON only, and a form is a 415."""
    handover, _ = draft

    send = getattr(client_for(scientist), method)
    response = send(f"{API}/handovers/{handover.pk}/{path}", {"body": "hi", "latency_p95_ms": ""},
                    format="multipart")

    assert response.status_code == 415, response.content
    assert "Unsupported media type" in response.json()["detail"]
    assert not handover.comments.exists()
