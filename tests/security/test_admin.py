"""The Django admin: the signed contract is read-only there, and a staff
member who is not a superuser cannot raise their own rights."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from handoff.handovers.models import Artifact, Handover, Review, Revision
from tests.factories import UserFactory

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def _staff_with(*codenames):
    user = UserFactory(username="staffer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def admin_client(world):
    return logged_in(UserFactory(username="root", is_staff=True, is_superuser=True))


@pytest.mark.parametrize(("model", "name"), [
    (Handover, "handover"), (Revision, "revision"), (Artifact, "artifact"), (Review, "review"),
])
def test_contract_records_are_read_only_even_for_a_superuser(world, admin_client, model, name):
    obj = model.objects.filter(pk__isnull=False).first()
    base = f"/admin/handovers/{name}/"
    page = admin_client.get(f"{base}{obj.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(f"{base}{obj.pk}/change/", {}).status_code == 403
    assert admin_client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"{base}add/").status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_bulk_delete_of_contract_records_is_not_offered(world, admin_client):
    for name in ("handover", "revision", "artifact", "review"):
        html = admin_client.get(f"/admin/handovers/{name}/").content.decode()
        assert "delete_selected" not in html, name


def _user_form(user, **changes):
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "is_active": "on", "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00",
        "last_login_0": "", "last_login_1": "",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return data


def test_a_staff_member_who_may_change_users_cannot_make_themselves_superuser(world):
    staffer = _staff_with("view_user", "change_user")
    client = logged_in(staffer)
    all_permissions = [str(p.pk) for p in Permission.objects.all()]
    response = client.post(f"/admin/accounts/user/{staffer.pk}/change/", _user_form(
        staffer, is_superuser="on", user_permissions=all_permissions,
    ))
    assert response.status_code in (200, 302, 403)
    staffer.refresh_from_db()
    assert not staffer.is_superuser
    assert staffer.user_permissions.count() == 2


def test_a_staff_member_cannot_grant_rights_to_someone_else_either(world):
    staffer = _staff_with("view_user", "change_user")
    other = world.people["data_scientist"]
    client = logged_in(staffer)
    group = Group.objects.create(name="everything")
    group.permissions.set(Permission.objects.all())
    client.post(f"/admin/accounts/user/{other.pk}/change/", _user_form(
        other, is_staff="on", is_superuser="on", groups=[str(group.pk)],
    ))
    other.refresh_from_db()
    assert not other.is_superuser and not other.is_staff
    assert not other.groups.exists()


def test_a_staff_member_cannot_take_over_a_superuser_account(world):
    staffer = _staff_with("view_user", "change_user")
    root = UserFactory(username="root2", is_staff=True, is_superuser=True)
    client = logged_in(staffer)
    password = {"password1": "Taken-over-42!", "password2": "Taken-over-42!", "usable_password": "true"}
    response = client.post(f"/admin/accounts/user/{root.pk}/password/", password)
    assert response.status_code == 403
    root.refresh_from_db()
    assert not root.check_password("Taken-over-42!")
    response = client.post(f"/admin/accounts/user/{root.pk}/change/", _user_form(root, is_active=""))
    root.refresh_from_db()
    assert root.is_active


def test_a_staff_member_who_may_add_users_cannot_add_a_superuser(world):
    staffer = _staff_with("view_user", "add_user", "change_user")
    client = logged_in(staffer)
    client.post("/admin/accounts/user/add/", {
        "username": "sneaky", "password1": "Sneaky-pass-42!", "password2": "Sneaky-pass-42!",
        "usable_password": "true", "is_superuser": "on", "is_staff": "on",
    })
    from django.contrib.auth import get_user_model

    sneaky = get_user_model().objects.filter(username="sneaky").first()
    assert sneaky is None or not (sneaky.is_superuser or sneaky.is_staff)


def test_a_superuser_still_manages_rights(world, admin_client):
    other = world.people["data_scientist"]
    response = admin_client.post(f"/admin/accounts/user/{other.pk}/change/", _user_form(other, is_staff="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    other.refresh_from_db()
    assert other.is_staff


def test_staff_without_permissions_sees_no_model_in_the_admin(world):
    client = Client()
    client.force_login(world.people["staff_without_role"])
    html = client.get("/admin/").content.decode()
    assert "Handovers" not in html and "Users" not in html


def test_a_staff_member_who_may_change_groups_cannot_give_a_group_more_permissions(world):
    staffer = _staff_with("view_group", "change_group", "add_group")
    group = Group.objects.create(name="editors")
    staffer.groups.add(group)
    client = logged_in(staffer)
    everything = [str(p.pk) for p in Permission.objects.all()]
    client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "editors", "permissions": everything})
    client.post("/admin/auth/group/add/", {"name": "all", "permissions": everything})
    assert not group.permissions.exists()
    assert not Permission.objects.filter(group__name="all").exists()


def test_a_staff_member_may_still_edit_their_own_name(world):
    staffer = _staff_with("view_user", "change_user")
    client = logged_in(staffer)
    response = client.post(f"/admin/accounts/user/{staffer.pk}/change/",
                           _user_form(staffer, first_name="Stef"))
    assert response.status_code == 302, response.content.decode()[:3000]
    staffer.refresh_from_db()
    assert staffer.first_name == "Stef" and staffer.is_staff and not staffer.is_superuser
