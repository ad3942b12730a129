"""A candidate's edit page: the contract's requirements are shown, not edited;
the candidate states its framework version, parameter count and claimed values."""

import pytest
from django.urls import reverse

from tests.factories import filed_candidate

pytestmark = pytest.mark.django_db


def edit_data(**overrides):
    data = {"metrics-TOTAL_FORMS": "6", "metrics-INITIAL_FORMS": "2", "framework_version": "1.9.1",
            "parameter_count": "31", "metrics-0-claimed_value": "0.96", "metrics-1-claimed_value": "",
            # what a tampered form would send for fixed terms and bounds: ignored
            "max_parameter_count": "100000", "task_type": "regression", "metrics-0-minimum": "0.1"}
    data.update(overrides)
    return data


def test_candidate_edit_changes_only_what_the_candidate_states(client, contract, scientist):
    handover = filed_candidate(contract, scientist)
    client.force_login(scientist)
    page = client.get(reverse("handovers:edit", args=[handover.pk]))
    assert page.context["form"].fields["max_parameter_count"].disabled
    assert not page.context["form"].fields["framework_version"].disabled
    response = client.post(reverse("handovers:edit", args=[handover.pk]), edit_data())
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    revision = handover.revisions.get()
    assert (revision.framework_version, revision.parameter_count) == ("1.9.1", 31)
    assert (revision.max_parameter_count, revision.task_type) == (100, "binary_classification")
    claims = {c.metric: (c.claimed_value, c.minimum) for c in revision.claimed_metrics.all()}
    assert claims == {"accuracy": (0.96, 0.95), "roc_auc": (None, 0.95)}


def test_plain_handover_edit_keeps_every_term_editable(client, project, scientist):
    from tests.factories import ready_draft

    handover, _ = ready_draft(project=project, owner=scientist)
    client.force_login(scientist)
    form = client.get(reverse("handovers:edit", args=[handover.pk])).context["form"]
    assert not any(field.disabled for field in form.fields.values())
