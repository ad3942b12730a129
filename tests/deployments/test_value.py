"""What a deployment is worth: its monthly value and cost, recorded by the
project's product manager or the team's leader (``services.record_value``),
on the deployment page and through ``POST /api/v1/deployments/{id}/value/``;
and the business metric monitoring posts beside the model's metrics, shown on
the page and never held to the contract."""

from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from handoff.audit.models import AuditEvent
from handoff.core.errors import DomainError, Forbidden, NotFound
from handoff.deployments import services
from handoff.deployments.models import Deployment, MetricBatch, MetricObservation
from handoff.incidents.models import Incident
from handoff.teams.models import Role
from tests.factories import (
    DeploymentFactory,
    MetricObservationFactory,
    api_token,
    ingestion_token,
    member,
    observation,
)
from tests.race import api_session, race

pytestmark = pytest.mark.django_db

VERB = "deployment.value_recorded"


@pytest.fixture
def deployment(handover):
    return DeploymentFactory(handover=handover)


@pytest.fixture
def product_manager(project):
    return member(project, Role.PRODUCT_MANAGER, username="pia")


@pytest.fixture
def leader(project):
    return project.team.leader


def _value_of(deployment):
    return Deployment.objects.values("monthly_value", "monthly_cost", "business_metric_name",
                                     "value_set_by", "value_set_at").get(pk=deployment.pk)


def _unvalued(deployment):
    return _value_of(deployment) == {"monthly_value": None, "monthly_cost": None, "business_metric_name": "",
                                     "value_set_by": None, "value_set_at": None}


# --- the service ---------------------------------------------------------------------------------


def test_product_manager_records_value_and_cost_with_who_and_when(product_manager, deployment):
    services.record_value(product_manager, deployment, monthly_value=Decimal("12500.50"),
                          monthly_cost="1800", business_metric_name="  Approved   revenue, € per hour ")

    recorded = Deployment.objects.get(pk=deployment.pk)
    assert (recorded.monthly_value, recorded.monthly_cost) == (Decimal("12500.50"), Decimal("1800.00"))
    assert recorded.monthly_net == Decimal("10700.50")
    assert recorded.business_metric_name == "Approved revenue, € per hour"
    assert recorded.value_set_by == product_manager and recorded.value_set_at is not None
    event = AuditEvent.objects.get(verb=VERB)
    assert (event.actor, event.project, event.target_id) == (product_manager, deployment.project,
                                                             str(deployment.pk))
    assert event.details["before"] == {"monthly_value": None, "monthly_cost": None,
                                       "business_metric_name": ""}
    assert event.details["after"] == {"monthly_value": "12500.50", "monthly_cost": "1800.00",
                                      "business_metric_name": "Approved revenue, € per hour"}
    assert event.details["currency"] == "EUR"


def test_the_team_leader_may_record_value(leader, deployment):
    services.record_value(leader, deployment, monthly_value=100, monthly_cost=40, business_metric_name="")
    assert _value_of(deployment)["value_set_by"] == leader.pk


@pytest.mark.parametrize("role", [Role.ML_ENGINEER, Role.DATA_SCIENTIST, Role.DATA_ENGINEER, Role.MANAGER])
def test_other_roles_get_403_and_nothing_changes(project, deployment, role):
    with pytest.raises(Forbidden):
        services.record_value(member(project, role), deployment, monthly_value=100)
    assert _unvalued(deployment) and not AuditEvent.objects.filter(verb=VERB).exists()


def test_outsider_gets_404_and_nothing_changes(outsider, deployment):
    with pytest.raises(NotFound):
        services.record_value(outsider, deployment, monthly_value=100)
    assert _unvalued(deployment)


BAD_AMOUNTS = [
    (Decimal("-0.01"), "cannot be negative"),
    (-5, "cannot be negative"),
    (Decimal("1000000000000"), "too large"),
    ("99999999999999", "too large"),
    ("12.345", "whole cents"),
    ("twelve", "as a number"),
    (float("nan"), "as a number"),
    ("Infinity", "as a number"),
    (True, "as a number"),
    ([1], "as a number"),
]


@pytest.mark.parametrize("field", ["monthly_value", "monthly_cost"])
@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_a_bad_amount_is_refused_on_its_field_and_changes_nothing(product_manager, deployment, field,
                                                                  amount, message):
    services.record_value(product_manager, deployment, monthly_value=10, monthly_cost=5)
    before, events = _value_of(deployment), AuditEvent.objects.count()
    # The other fields given are good: nothing of them may be written either.
    good = {"monthly_value": 20, "monthly_cost": 8, "business_metric_name": "Revenue"}

    with pytest.raises(DomainError) as refused:
        services.record_value(product_manager, deployment, **{**good, field: amount})

    assert refused.value.field == field and message in refused.value.message
    assert field.replace("_", " ") in refused.value.message
    assert _value_of(deployment) == before and AuditEvent.objects.count() == events


def test_a_business_metric_name_too_long_is_refused(product_manager, deployment):
    with pytest.raises(DomainError) as refused:
        services.record_value(product_manager, deployment, monthly_value=10, business_metric_name="x" * 81)
    assert refused.value.field == "business_metric_name" and "at most 80" in refused.value.message
    assert _unvalued(deployment)


def test_only_what_changed_is_written_and_audited(product_manager, leader, deployment):
    services.record_value(product_manager, deployment, monthly_value=100, monthly_cost=10,
                          business_metric_name="Revenue")
    first = _value_of(deployment)

    # The same figures again: nothing to write, nothing to audit.
    services.record_value(leader, deployment, monthly_value="100.00", monthly_cost=Decimal("10"),
                          business_metric_name="Revenue")
    assert _value_of(deployment) == first and AuditEvent.objects.filter(verb=VERB).count() == 1

    # A new cost: only the cost, with who changed it.
    services.record_value(leader, deployment, monthly_value=100, monthly_cost=25,
                          business_metric_name="Revenue")
    event = AuditEvent.objects.filter(verb=VERB).latest("pk")
    assert (event.details["before"], event.details["after"]) == ({"monthly_cost": "10.00"},
                                                                 {"monthly_cost": "25.00"})
    now = _value_of(deployment)
    assert now["monthly_cost"] == Decimal("25.00") and now["value_set_by"] == leader.pk
    assert now["value_set_at"] > first["value_set_at"]


def test_renaming_the_business_metric_keeps_who_set_the_amounts(product_manager, leader, deployment):
    services.record_value(product_manager, deployment, monthly_value=100, monthly_cost=10)
    set_at = _value_of(deployment)["value_set_at"]

    services.record_value(leader, deployment, business_metric_name="Revenue")

    now = _value_of(deployment)
    assert (now["value_set_by"], now["value_set_at"], now["business_metric_name"]) == (
        product_manager.pk, set_at, "Revenue")
    assert AuditEvent.objects.filter(verb=VERB).latest("pk").details["after"] == {
        "business_metric_name": "Revenue"}


def test_none_clears_an_amount_and_what_is_left_out_stays(product_manager, deployment):
    services.record_value(product_manager, deployment, monthly_value=100, monthly_cost=10)
    services.record_value(product_manager, deployment, monthly_cost=None)

    now = Deployment.objects.get(pk=deployment.pk)
    assert (now.monthly_value, now.monthly_cost, now.monthly_net) == (Decimal("100.00"), None, None)


@pytest.mark.postgres
def test_two_people_recording_at_once_are_audited_one_after_the_other(postgres, live_server, project,
                                                                       deployment, product_manager, leader):
    """The row lock puts the second after the first: its audit event's
    ``before`` is what the first wrote, not what both read at the start."""
    sessions = [api_session(api_token(user)) for user in (product_manager, leader)]
    url = f"{live_server.url}/api/v1/deployments/{deployment.pk}/value/"
    try:
        result = race(lambda: sessions[0].post(url, json={"monthly_value": "100"}, timeout=60),
                      lambda: sessions[1].post(url, json={"monthly_value": "200"}, timeout=60))
    finally:
        for session in sessions:
            session.close()

    assert (result.first.status, result.second.status) == (200, 200), result
    events = list(AuditEvent.objects.filter(verb=VERB).order_by("pk"))
    assert [(e.details["before"], e.details["after"]) for e in events] == [
        ({"monthly_value": None}, {"monthly_value": "100.00"}),
        ({"monthly_value": "100.00"}, {"monthly_value": "200.00"}),
    ]
    assert _value_of(deployment)["value_set_by"] == leader.pk


# --- the deployment page -------------------------------------------------------------------------


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def _page(user, deployment):
    response = logged_in(user).get(deployment.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_product_manager_sees_the_empty_state_and_the_form_in_the_currency(product_manager, deployment,
                                                                           settings):
    settings.HANDOFF_CURRENCY = "CHF"
    page = _page(product_manager, deployment)
    assert 'id="value-heading"' in page and "No monthly value or cost recorded yet" in page
    assert "Record below what this deployment brings" in page
    assert f'action="/deployments/{deployment.pk}/value/"' in page
    assert "Monthly value (CHF)" in page and "Monthly cost (CHF)" in page


def test_an_engineer_is_told_who_records_it_and_gets_no_form(engineer, deployment):
    page = _page(engineer, deployment)
    assert "The project's product manager or the team's leader records them." in page
    assert "/value/" not in page and "Record value" not in page


def test_the_panel_shows_value_cost_net_who_and_when(product_manager, engineer, deployment):
    services.record_value(product_manager, deployment, monthly_value="12500.50", monthly_cost="14000")
    page = _page(engineer, deployment)
    assert "12,500.50 EUR" in page and "14,000.00 EUR" in page
    assert "-1,499.50 EUR" in page and "costs more than it brings" in page
    assert f"by {product_manager}" in page and "No monthly value or cost recorded yet" not in page


def test_record_value_from_the_page(leader, deployment):
    response = logged_in(leader).post(f"/deployments/{deployment.pk}/value/", {
        "monthly_value": "5000", "monthly_cost": "750.25", "business_metric_name": "Fraud prevented, €"})

    assert response.status_code == 302 and response["Location"].endswith("#value")
    assert _value_of(deployment)["monthly_cost"] == Decimal("750.25")
    assert _value_of(deployment)["business_metric_name"] == "Fraud prevented, €"
    # The form shows what is recorded.
    page = _page(leader, deployment)
    assert 'value="5000.00"' in page and 'value="Fraud prevented, €"' in page


@pytest.mark.parametrize(("amount", "message"), [
    ("-5", "The monthly cost cannot be negative"),
    ("1.234", "in whole cents"),
    ("1000000000000", "too large"),
    ("lots", "Give the monthly cost as a number"),
])
def test_bad_input_on_the_page_is_a_400_with_its_message_and_changes_nothing(product_manager, deployment,
                                                                             amount, message):
    response = logged_in(product_manager).post(f"/deployments/{deployment.pk}/value/", {
        "monthly_value": "100", "monthly_cost": amount, "business_metric_name": ""})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert _unvalued(deployment)


def test_the_form_is_refused_to_an_engineer_and_hidden_from_an_outsider(engineer, outsider, deployment):
    body = {"monthly_value": "100", "monthly_cost": "1"}
    assert logged_in(engineer).post(f"/deployments/{deployment.pk}/value/", body).status_code == 403
    assert logged_in(outsider).post(f"/deployments/{deployment.pk}/value/", body).status_code == 404
    assert _unvalued(deployment)


# --- the API -------------------------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_deployment_shows_its_value_fields(product_manager, engineer, deployment):
    body = api(engineer).get(f"/api/v1/deployments/{deployment.pk}/").json()
    assert {key: body[key] for key in ("monthly_value", "monthly_cost", "currency", "value_set_by",
                                       "value_set_at", "business_metric_name")} == {
        "monthly_value": None, "monthly_cost": None, "currency": "EUR", "value_set_by": None,
        "value_set_at": None, "business_metric_name": ""}

    services.record_value(product_manager, deployment, monthly_value="12500.5", monthly_cost="0",
                          business_metric_name="Revenue")
    body = api(engineer).get("/api/v1/deployments/").json()["results"][0]
    fields = ("monthly_value", "monthly_cost", "value_set_by", "business_metric_name")
    assert [body[key] for key in fields] == ["12500.50", "0.00", product_manager.username, "Revenue"]
    assert body["value_set_at"] is not None


def test_product_manager_records_value_through_the_api(product_manager, deployment):
    response = api(product_manager).post(f"/api/v1/deployments/{deployment.pk}/value/", {
        "monthly_value": "12500.50", "monthly_cost": "1800"}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["monthly_value"], response.json()["monthly_cost"]) == ("12500.50", "1800.00")
    assert response.json()["value_set_by"] == product_manager.username

    # What is left out stays; null clears.
    response = api(product_manager).post(f"/api/v1/deployments/{deployment.pk}/value/", {
        "monthly_cost": None, "business_metric_name": "Revenue"}, format="json")
    assert (response.json()["monthly_value"], response.json()["monthly_cost"],
            response.json()["business_metric_name"]) == ("12500.50", None, "Revenue")


def test_outsider_gets_404_before_the_body_is_read(outsider, deployment):
    for body in ({"monthly_value": "-1"}, {"monthly_value": 12}, {"monthly_value": "100"}):
        for pk in (deployment.pk, 987654):
            response = api(outsider).post(f"/api/v1/deployments/{pk}/value/", body, format="json")
            assert response.status_code == 404, response.json()
    assert _unvalued(deployment)


def test_other_roles_get_403_before_the_body_is_read(engineer, deployment):
    response = api(engineer).post(f"/api/v1/deployments/{deployment.pk}/value/", {"monthly_value": "x"},
                                  format="json")
    assert response.status_code == 403 and "record value" in response.json()["detail"]
    assert _unvalued(deployment)


@pytest.mark.parametrize(("amount", "message"), [
    ("-5", "The monthly value cannot be negative: give 0 or more."),
    ("12.345", "Give the monthly value in whole cents: at most 2 digits after the point."),
    ("1000000000000", "The monthly value is too large: at most 999,999,999,999.99 EUR a month."),
    ("1e5", 'Give the monthly value as a string of digits with at most 2 after the point, such as "1'),
    ("", 'Give the monthly value as a string of digits'),
    (12500, 'Give the monthly value as a string of digits'),
    (True, 'Give the monthly value as a string of digits'),
])
def test_a_bad_amount_is_a_400_naming_the_field_and_changes_nothing(product_manager, deployment, amount,
                                                                    message):
    response = api(product_manager).post(f"/api/v1/deployments/{deployment.pk}/value/", {
        "monthly_value": amount, "monthly_cost": "10", "business_metric_name": "Revenue"}, format="json")

    assert response.status_code == 400
    assert response.json()["monthly_value"][0].startswith(message), response.json()
    assert "monthly_value" in response.json()["detail"]
    assert _unvalued(deployment)


def test_the_value_action_is_documented(client, django_user_model):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    operation = schema["paths"]["/api/v1/deployments/{id}/value/"]["post"]
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    body = schema["components"]["schemas"]["ValueInputRequest"]["properties"]
    assert body["monthly_value"]["pattern"] == r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
    assert {"monthly_value", "monthly_cost", "currency", "value_set_by", "value_set_at",
            "business_metric_name"} <= set(schema["components"]["schemas"]["Deployment"]["properties"])


# --- the business metric -------------------------------------------------------------------------


def _post_metrics(deployment, secret, observations):
    return Client().post(f"/api/v1/deployments/{deployment.pk}/metrics/", {"observations": observations},
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_monitoring_posts_a_business_metric_like_any_other(project, engineer, deployment):
    secret = ingestion_token(project, created_by=engineer)[1]
    response = _post_metrics(deployment, secret, [observation("business", 1830.5, sample_size=None)])

    assert response.status_code == 202, response.json()
    assert list(MetricObservation.objects.values_list("metric", "value")) == [("business", 1830.5)]


def test_a_business_observation_never_opens_an_incident(project, engineer, deployment,
                                                        django_capture_on_commit_callbacks):
    """Whatever its value: only the contract's metrics and budgets are held to it.
    (An accuracy under the signed minimum in the same batch opens one, so the batch was evaluated.)"""
    secret = ingestion_token(project, created_by=engineer)[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_metrics(deployment, secret, [
            observation("business", -1e9), observation("business", 0.0, minutes_ago=8),
            observation("business", 1e12, minutes_ago=6), observation("accuracy", 0.5, minutes_ago=4)])

    assert response.status_code == 202, response.json()
    assert MetricBatch.objects.get().evaluated_at is not None
    assert list(Incident.objects.values_list("metric", flat=True)) == ["accuracy"]


def test_the_page_shows_the_latest_business_metric_by_its_name(product_manager, engineer, deployment):
    MetricObservationFactory(deployment=deployment, metric="business", value=1700.25,
                             window_end=deployment.deployed_at)
    MetricObservationFactory(deployment=deployment, metric="business", value=1830.75)
    MetricObservationFactory(deployment=deployment, metric="accuracy", value=0.947)

    page = _page(engineer, deployment)
    assert "Business metric <span" in page and "1830.75" in page and "0.947" in page

    services.record_value(product_manager, deployment, business_metric_name="Approved revenue, € per hour")
    page = _page(engineer, deployment)
    latest = page[page.index('id="latest-heading"'):page.index('id="observations-heading"')]
    # The model's metrics first, then the business metric under its name, not held to the contract.
    assert latest.index("Accuracy") < latest.index("Approved revenue, € per hour")
    assert "not held to the contract" in latest and "1830.75" in latest and "1700.25" not in latest
    value_panel = page[page.index('id="value-heading"'):page.index('id="latest-heading"')]
    assert "Latest Approved revenue, € per hour: 1830.75" in value_panel
