"""Demo teams, projects and people for `manage.py seed_demo` and the tests.

Safe to run again: rows are found or created by their natural keys, and the
demo accounts get their password, flags and documented roles back (roles a
leader added to other people are left alone). Other apps extend the demo by
taking the returned ``DemoData`` and adding their own rows to its projects.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Project, Role, RoleAssignment, Stage, Team

PASSWORD = "handoff-demo"

# username: (first name, last name, what they do in the demo)
PEOPLE = {
    "scientist": ("Priya", "Raman", "data scientist on Fraud Analytics' projects"),
    "engineer": ("Tomás", "Ortega", "ML engineer on Fraud Analytics' projects"),
    "manager": ("Grace", "Okafor", "leads Fraud Analytics; manager on Card fraud scoring"),
    "outsider": ("Lena", "Fischer", "data scientist on Query ranking only (Search Relevance)"),
    "lead2": ("Marcus", "Chen", "leads Search Relevance"),
    "engineer2": ("Aiko", "Tanaka", "ML engineer on Query ranking"),
    "admin": ("Ada", "Admin", "superuser: sees every project, Django admin"),
}
SUPERUSERS = {"admin"}

TEAMS = [
    # (name, slug, leader)
    ("Fraud Analytics", "fraud-analytics", "manager"),
    ("Search Relevance", "search-relevance", "lead2"),
]

PROJECTS = [
    # (team slug, name, slug, stage, description)
    (
        "fraud-analytics", "Card fraud scoring", "card-fraud-scoring", Stage.DEPLOYMENT,
        "Scores every card authorisation for fraud risk in real time. The authorisation service "
        "calls the model inline, so p95 latency must stay under 20 ms at batch size 1.",
    ),
    (
        "fraud-analytics", "Chargeback forecasting", "chargeback-forecasting", Stage.MODELING,
        "Forecasts weekly chargeback volume per merchant segment so that the disputes team can "
        "staff ahead of peaks.",
    ),
    (
        "search-relevance", "Query ranking", "query-ranking", Stage.MONITORING,
        "Re-ranks the top 100 search results for each query by predicted click-through; "
        "evaluated weekly against held-out click logs.",
    ),
]

ROLES = [
    # (username, project slug, role)
    ("scientist", "card-fraud-scoring", Role.DATA_SCIENTIST),
    ("scientist", "chargeback-forecasting", Role.DATA_SCIENTIST),
    ("engineer", "card-fraud-scoring", Role.ML_ENGINEER),
    ("engineer", "chargeback-forecasting", Role.ML_ENGINEER),
    ("manager", "card-fraud-scoring", Role.MANAGER),
    ("outsider", "query-ranking", Role.DATA_SCIENTIST),
    ("engineer2", "query-ranking", Role.ML_ENGINEER),
]


@dataclass
class DemoData:
    users: dict = field(default_factory=dict)  # username -> User
    teams: dict = field(default_factory=dict)  # slug -> Team
    projects: dict = field(default_factory=dict)  # slug -> Project

    def accounts(self):
        """(username, what they do) for every demo account, in a stable order."""
        return [(username, PEOPLE[username][2]) for username in PEOPLE]


@transaction.atomic
def seed_demo():
    """Create (or restore) the demo data and return it."""
    User = get_user_model()
    demo = DemoData()
    for username, (first_name, last_name, _) in PEOPLE.items():
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = first_name
        user.last_name = last_name
        user.email = f"{username}@handoff.example"
        user.is_active = True
        user.is_superuser = user.is_staff = username in SUPERUSERS
        user.set_password(PASSWORD)
        user.save()
        demo.users[username] = user

    for name, slug, leader in TEAMS:
        team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": name, "leader": demo.users[leader]})
        if team.leader_id != demo.users[leader].pk:
            team.leader = demo.users[leader]
            team.save(update_fields=["leader"])
        demo.teams[slug] = team

    for team_slug, name, slug, stage, description in PROJECTS:
        project, _ = Project.objects.get_or_create(
            slug=slug,
            defaults={
                "team": demo.teams[team_slug], "name": name, "stage": stage, "description": description,
            },
        )
        demo.projects[slug] = project

    for username, project_slug, role in ROLES:
        RoleAssignment.objects.update_or_create(
            user=demo.users[username], project=demo.projects[project_slug], defaults={"role": role}
        )
    return demo
