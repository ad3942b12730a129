import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from handoff.teams.demo import PASSWORD, seed_demo
from handoff.teams.models import Project, Role, RoleAssignment, Team

# Transactional: seed_demo validates on commit, as it does outside tests.
pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNTS = ["scientist", "engineer", "manager", "outsider", "lead2", "engineer2", "admin"]


def counts():
    models = (get_user_model(), Team, Project, RoleAssignment)
    return tuple(model.objects.count() for model in models)


def test_running_twice_gives_the_same_data(capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")

    assert counts() == first == (7, 2, 3, 7)
    out = capsys.readouterr().out
    assert "handoff-demo" in out
    for username in ACCOUNTS:
        assert username in out


def test_running_again_resets_the_demo_passwords():
    seed_demo()
    user = get_user_model().objects.get(username="scientist")
    user.set_password("something-else-entirely")
    user.save()

    seed_demo()

    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("username", ACCOUNTS)
def test_every_demo_account_can_log_in(client, username):
    seed_demo()

    response = client.post(reverse("login"), {"username": username, "password": "handoff-demo"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).wsgi_request.user.username == username


def test_demo_roles_match_the_story():
    demo = seed_demo()
    assignments = RoleAssignment.objects.select_related("user", "project")
    role = {(a.user.username, a.project.slug): a.role for a in assignments}

    assert role[("scientist", "card-fraud-scoring")] == Role.DATA_SCIENTIST
    assert role[("scientist", "chargeback-forecasting")] == Role.DATA_SCIENTIST
    assert role[("engineer", "card-fraud-scoring")] == Role.ML_ENGINEER
    assert role[("manager", "card-fraud-scoring")] == Role.MANAGER
    assert role[("outsider", "query-ranking")] == Role.DATA_SCIENTIST
    assert not any(user == "outsider" and slug != "query-ranking" for user, slug in role)
    assert demo.teams["fraud-analytics"].leader.username == "manager"
    assert demo.teams["search-relevance"].leader.username == "lead2"
    assert demo.users["admin"].is_superuser and demo.users["admin"].is_staff


def test_outsider_sees_only_query_ranking(client):
    seed_demo()
    # Through the login page: the lockout backend needs the request that Client.login() does not pass.
    assert client.post(reverse("login"), {"username": "outsider", "password": PASSWORD}).status_code == 302

    html = client.get(reverse("home")).content.decode()

    assert "Query ranking" in html
    assert "Card fraud scoring" not in html
    assert client.get(reverse("teams:project", args=["card-fraud-scoring"])).status_code == 404
