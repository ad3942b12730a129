import pytest

from handoff.audit.models import AuditEvent
from handoff.audit.services import record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_not_even_a_superuser_deletes_or_edits_audit_events_in_the_admin(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    event = record(admin, "team.created", admin)
    client.force_login(admin)

    deleted = client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    changed = client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"verb": "nothing.happened"})

    assert deleted.status_code == 403 and changed.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).verb == "team.created"
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
