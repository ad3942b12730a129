"""The triage queue, the incident page, opening one by hand, and the
incidents section of the handover page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from handoff.handovers.models import Handover
from handoff.incidents import breaches, services
from handoff.incidents.models import ActionItem, Incident, IncidentStatus, RootCause, Severity
from handoff.teams.models import Role, RoleAssignment
from tests.factories import IncidentFactory, ProjectFactory, member

from .conftest import stored_batch

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def breach(deployment):
    batch = stored_batch(deployment, 0.97, 0.96, 0.90, 0.89)
    breaches.evaluate_batch(batch.pk)
    return Incident.objects.get(deployment=deployment)


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


# --- the queue ---------------------------------------------------------------------------------


def test_queue_lists_most_severe_first_then_oldest(project, engineer):
    newer_sev1 = IncidentFactory(project=project, severity=Severity.SEV1, opened_at=ago(minutes=5))
    older_sev3 = IncidentFactory(project=project, severity=Severity.SEV3, opened_at=ago(hours=5))
    newer_sev3 = IncidentFactory(project=project, severity=Severity.SEV3, opened_at=ago(hours=1))
    older_sev1 = IncidentFactory(project=project, severity=Severity.SEV1, opened_at=ago(hours=9))
    body = client_for(engineer).get(reverse("incidents:triage")).content.decode()
    order = [body.index(f'id="incident-{i.pk}"') for i in (older_sev1, newer_sev1, older_sev3, newer_sev3)]
    assert order == sorted(order)


def test_queue_shows_open_incidents_by_default_and_closed_ones_when_asked(project, engineer):
    open_one = IncidentFactory(project=project, title="still burning")
    closed = IncidentFactory(project=project, title="long gone", status=IncidentStatus.CLOSED)
    client = client_for(engineer)
    body = client.get(reverse("incidents:triage")).content.decode()
    assert open_one.title in body and closed.title not in body
    body = client.get(reverse("incidents:triage"), {"status": "closed"}).content.decode()
    assert closed.title in body and open_one.title not in body
    body = client.get(reverse("incidents:triage") + "?status=").content.decode()
    assert closed.title in body and open_one.title in body


def test_queue_filters_by_project_severity_and_assignee(project, engineer):
    other = ProjectFactory(slug="other")
    colleague = member(other, Role.ML_ENGINEER, username="e2")
    RoleAssignment.objects.create(user=engineer, project=other, role=Role.ML_ENGINEER)
    mine = IncidentFactory(project=project, title="mine-sev2", severity=Severity.SEV2, assignee=engineer)
    theirs = IncidentFactory(project=other, title="theirs-sev4", severity=Severity.SEV4,
                             assignee=colleague)
    nobody = IncidentFactory(project=project, title="nobody-sev3")
    client = client_for(engineer)

    def titles(**query):
        body = client.get(reverse("incidents:triage"), query).content.decode()
        return {i.title for i in (mine, theirs, nobody) if i.title in body}

    assert titles() == {"mine-sev2", "theirs-sev4", "nobody-sev3"}
    assert titles(project="other") == {"theirs-sev4"}
    assert titles(severity="sev2") == {"mine-sev2"}
    assert titles(assignee="me") == {"mine-sev2"}
    assert titles(assignee="none") == {"nobody-sev3"}
    assert titles(assignee="e2") == {"theirs-sev4"}


def test_empty_queue_says_what_to_do(project, engineer):
    body = client_for(engineer).get(reverse("incidents:triage")).content.decode()
    assert "No open incidents in your projects" in body and reverse("incidents:new") in body


def test_queue_offers_an_engineer_acknowledge_and_assign_but_a_data_scientist_neither(project, engineer,
                                                                                      scientist):
    incident = IncidentFactory(project=project)
    url = reverse("incidents:triage")
    body = client_for(engineer).get(url).content.decode()
    assert reverse("incidents:acknowledge", args=[incident.pk]) in body
    assert reverse("incidents:assign", args=[incident.pk]) in body
    # Not offered: the lifecycle allows only acknowledge from open.
    assert reverse("incidents:investigate", args=[incident.pk]) not in body
    body = client_for(scientist).get(url).content.decode()
    assert incident.title in body
    assert reverse("incidents:acknowledge", args=[incident.pk]) not in body
    assert reverse("incidents:assign", args=[incident.pk]) not in body


def test_queue_offers_the_next_move_only(project, engineer):
    incident = IncidentFactory(project=project, status=IncidentStatus.INVESTIGATING)
    body = client_for(engineer).get(reverse("incidents:triage")).content.decode()
    assert reverse("incidents:mitigate", args=[incident.pk]) in body
    assert reverse("incidents:acknowledge", args=[incident.pk]) not in body
    assert reverse("incidents:close", args=[incident.pk]) not in body


def test_htmx_poll_of_the_queue_answers_the_list_alone(project, engineer):
    IncidentFactory(project=project, title="polled")
    response = client_for(engineer).get(reverse("incidents:triage"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="triage-list"' in body and "polled" in body and "<html" not in body


def test_acknowledge_from_the_queue_redirects_back_to_it_with_its_filters(project, engineer):
    incident = IncidentFactory(project=project)
    back = reverse("incidents:triage") + "?severity=sev3"
    response = client_for(engineer).post(reverse("incidents:acknowledge", args=[incident.pk]), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED


def test_assign_to_me_and_severity_buttons_change_the_incident(project, engineer):
    incident = IncidentFactory(project=project)
    client = client_for(engineer)
    client.post(reverse("incidents:assign", args=[incident.pk]), {"assignee": "engineer"})
    client.post(reverse("incidents:severity", args=[incident.pk]), {"severity": "sev1"})
    incident.refresh_from_db()
    assert incident.assignee == engineer and incident.severity == Severity.SEV1


def test_engineer_of_another_project_gets_404_on_acknowledge(project):
    incident = IncidentFactory(project=project)
    stranger = member(ProjectFactory(), Role.ML_ENGINEER, username="stranger")
    response = client_for(stranger).post(reverse("incidents:acknowledge", args=[incident.pk]))
    assert response.status_code == 404
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN


def test_data_scientist_may_not_acknowledge(project, scientist):
    incident = IncidentFactory(project=project)
    assert client_for(scientist).post(reverse("incidents:acknowledge", args=[incident.pk])).status_code == 403
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN


def test_skipping_a_state_is_refused_with_a_message_and_changes_nothing(project, engineer):
    incident = IncidentFactory(project=project)
    client = client_for(engineer)
    response = client.post(reverse("incidents:mitigate", args=[incident.pk]), follow=True)
    assert "Cannot mark this incident mitigated: it is open now" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN


# --- the incident page -------------------------------------------------------------------------


def test_breach_page_shows_the_promise_the_observed_values_and_a_chart(deployment, engineer):
    incident = breach(deployment)
    body = client_for(engineer).get(incident.get_absolute_url()).content.decode()
    assert "Monitoring" in body  # the reporter
    assert "0.959" in body  # claimed
    assert "0.95" in body and "minimum" in body  # the limit
    assert '<td class="num" id="latest-observed">0.89</td>' in body
    assert "<svg" in body and 'class="limit-line"' in body and body.count('class="breach"') == 2
    assert "The windows as a table" in body
    assert "Production, 100% of traffic" in body


def test_resolve_form_needs_a_root_cause_and_summary(project, engineer):
    incident = IncidentFactory(project=project, status=IncidentStatus.MITIGATED)
    client = client_for(engineer)
    response = client.post(reverse("incidents:resolve", args=[incident.pk]), {"summary": "rolled back"})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = client.post(reverse("incidents:resolve", args=[incident.pk]),
                           {"root_cause": RootCause.DATA_DRIFT, "summary": "Retrained on fresh data."})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.root_cause == RootCause.DATA_DRIFT


def test_comment_renders_sanitised_markdown_and_warns_who_was_not_told(project, engineer):
    incident = IncidentFactory(project=project)
    member(ProjectFactory(), Role.ML_ENGINEER, username="faraway")
    client = client_for(engineer)
    response = client.post(reverse("incidents:comment", args=[incident.pk]),
                           {"body": "**look** @faraway <script>alert(1)</script>"}, follow=True)
    body = response.content.decode()
    assert "<strong>look</strong>" in body and "<script>alert(1)" not in body
    assert "@faraway is not on this project and was not notified." in body


def test_postmortem_and_action_items_for_those_who_may_edit_it(project, engineer, scientist):
    incident = IncidentFactory(project=project)
    client = client_for(engineer)
    client.post(reverse("incidents:postmortem", args=[incident.pk]), {"postmortem": "# What happened"})
    client.post(reverse("incidents:add_action_item", args=[incident.pk]), {"text": "Alert on drift"})
    item = ActionItem.objects.get(incident=incident)
    client.post(reverse("incidents:action_item_done", args=[incident.pk, item.pk]), {"done": "1"})
    item.refresh_from_db()
    assert item.done
    body = client.get(incident.get_absolute_url()).content.decode()
    assert "<h1>What happened</h1>" in body and "Save postmortem" in body
    # A data scientist who does not own the model reads it but may not edit it.
    body = client_for(scientist).get(incident.get_absolute_url()).content.decode()
    assert "What happened" in body and "Save postmortem" not in body


def test_owner_files_the_fix_and_lands_on_its_terms(signed, scientist, engineer):
    handover, _ = signed
    incident = services.open_incident(engineer, handover.project, title="drift", severity="sev2",
                                      handover=handover)
    client = client_for(scientist)
    assert "File the fix as version" in client.get(incident.get_absolute_url()).content.decode()
    assert "File the fix as version" not in client_for(engineer).get(
        incident.get_absolute_url()).content.decode()
    response = client.post(reverse("incidents:file_fix", args=[incident.pk]), {"version_label": "2.0.0"})
    fix = Handover.objects.get(version_label="2.0.0")
    assert response.status_code == 302 and response["Location"] == reverse("handovers:edit", args=[fix.pk])
    body = client.get(incident.get_absolute_url()).content.decode()
    assert 'id="fix-handover"' in body and "2.0.0" in body


def test_outsider_gets_404_on_every_incident_page(project):
    incident = IncidentFactory(project=project)
    outsider = client_for(member(ProjectFactory(), Role.ML_ENGINEER, username="out"))
    assert outsider.get(incident.get_absolute_url()).status_code == 404
    for name in ("acknowledge", "assign", "severity", "escalate", "comment", "postmortem", "file_fix"):
        assert outsider.post(reverse(f"incidents:{name}", args=[incident.pk]), {}).status_code == 404, name
    assert incident.title not in outsider.get(reverse("incidents:triage")).content.decode()


# --- opening by hand and the handover page ---------------------------------------------------------


def test_anyone_on_the_project_opens_an_incident_by_hand(project, signed):
    handover, _ = signed
    reporter = member(project, Role.PRODUCT_MANAGER, username="pm")
    client = client_for(reporter)
    page = client.get(reverse("incidents:new"), {"project": project.slug}).content.decode()
    assert f'value="{project.pk}" selected' in page
    response = client.post(reverse("incidents:new"), {"project": project.pk, "title": "Odd scores",
                                                      "severity": "sev2", "handover": handover.pk})
    incident = Incident.objects.get(title="Odd scores")
    assert response.status_code == 302 and incident.reporter == reporter and incident.handover == handover
    assert incident.owner == handover.model.owner


def test_new_incident_refuses_a_missing_title_on_its_field(project, scientist):
    response = client_for(scientist).post(reverse("incidents:new"),
                                          {"project": project.pk, "severity": "sev3"})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert not Incident.objects.exists()


def test_handover_page_lists_its_incidents_and_those_it_fixes(signed, scientist, engineer):
    handover, _ = signed
    incident = services.open_incident(engineer, handover.project, title="drift on v1", severity="sev2",
                                      handover=handover)
    fix = services.file_fix(scientist, incident, version_label="2.0.0")
    client = client_for(scientist)
    body = client.get(handover.get_absolute_url()).content.decode()
    assert "Incidents" in body and "drift on v1" in body and "Report an incident" in body
    body = client.get(fix.get_absolute_url()).content.decode()
    assert "Fixes" in body and f"#{incident.pk} drift on v1" in body


def test_nav_links_to_the_triage_queue(engineer):
    assert reverse("incidents:triage") in client_for(engineer).get(reverse("home")).content.decode()
