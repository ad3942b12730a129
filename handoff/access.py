"""Who may see what and do what: the one place that decides.

Every page, form, API view and task asks here. Two questions (and
``projects_allowing(user, action)``, the second asked of every project at once):

* ``visible_projects(user)`` scopes every queryset. A person sees a project
  when they hold a role on it, lead its team, or are a superuser.
* ``require(user, action, obj)`` raises ``NotFound`` when ``obj`` is outside
  the user's reach (never 403: an outsider must not learn it exists) and
  ``Forbidden`` when they can see it but their role does not allow ``action``.
"""

from enum import StrEnum

from django.db.models import CharField, Q, Value

from handoff.core.errors import Forbidden, NotFound
from handoff.teams.models import Project, Role, RoleAssignment, Team


class Action(StrEnum):
    VIEW = "view"
    MANAGE_MEMBERS = "manage_members"
    # Handovers
    CREATE_HANDOVER = "create_handover"
    EDIT_REVISION = "edit_revision"
    SUBMIT_REVISION = "submit_revision"
    REVISE_HANDOVER = "revise_handover"
    REVIEW_REVISION = "review_revision"
    COMMENT = "comment"
    REVALIDATE = "revalidate"
    # Agreed contracts and candidates
    DRAFT_CONTRACT = "draft_contract"
    SIGN_CONTRACT = "sign_contract"
    SELECT_CANDIDATE = "select_candidate"
    READ_BLIND_LABELS = "read_blind_labels"
    # Notifications
    MANAGE_WEBHOOKS = "manage_webhooks"
    # Production
    DEPLOY = "deploy"
    MANAGE_INGESTION_TOKENS = "manage_ingestion_tokens"
    REPORT_INCIDENT = "report_incident"
    TRIAGE_INCIDENT = "triage_incident"
    EDIT_POSTMORTEM = "edit_postmortem"
    # Dashboards and what deployed models are worth
    VIEW_DASHBOARD = "view_dashboard"
    RECORD_VALUE = "record_value"


# What each project role allows, beyond seeing the project.
ROLE_ACTIONS = {
    Role.DATA_SCIENTIST: {
        Action.VIEW, Action.CREATE_HANDOVER, Action.EDIT_REVISION, Action.SUBMIT_REVISION,
        Action.REVISE_HANDOVER, Action.COMMENT, Action.REPORT_INCIDENT,
        Action.DRAFT_CONTRACT, Action.SIGN_CONTRACT,
    },
    Role.ML_ENGINEER: {
        Action.VIEW, Action.REVIEW_REVISION, Action.REVALIDATE, Action.COMMENT, Action.DEPLOY,
        Action.TRIAGE_INCIDENT, Action.MANAGE_WEBHOOKS, Action.MANAGE_INGESTION_TOKENS,
        Action.REPORT_INCIDENT, Action.EDIT_POSTMORTEM,
        Action.DRAFT_CONTRACT, Action.SIGN_CONTRACT, Action.SELECT_CANDIDATE, Action.READ_BLIND_LABELS,
    },
    Role.DATA_ENGINEER: {Action.VIEW, Action.COMMENT, Action.REPORT_INCIDENT},
    Role.PRODUCT_MANAGER: {Action.VIEW, Action.COMMENT, Action.REPORT_INCIDENT, Action.RECORD_VALUE},
    Role.MANAGER: {Action.VIEW, Action.COMMENT, Action.VIEW_DASHBOARD, Action.REPORT_INCIDENT},
}
# A team's leader reads all of the team's projects and runs its membership;
# so does a superuser for every team. Neither signs contracts without a role.
# They also choose where the project's events are sent (its webhooks), read a
# blind contract's labels (they answer for the test set's integrity), and
# record what a deployment is worth (with the project's product manager).
LEADER_ACTIONS = {Action.VIEW, Action.MANAGE_MEMBERS, Action.COMMENT, Action.VIEW_DASHBOARD,
                  Action.MANAGE_WEBHOOKS, Action.REPORT_INCIDENT, Action.READ_BLIND_LABELS,
                  Action.RECORD_VALUE}
# What the owner of a handover (or the owning data scientist of an incident)
# may do on it, while they hold a role on its project.
OWNER_ACTIONS = {Action.REVALIDATE, Action.EDIT_POSTMORTEM}


def visible_projects(user):
    """Projects this user may see, as a queryset to filter or join on."""
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(pk__in=_held_or_led(RoleAssignment.objects.filter(user=user), user))


def _held_or_led(assignments, user):
    """Ids of the projects of ``assignments`` and of the teams ``user`` leads, as one
    ``UNION`` subquery. Not an ``OR`` over a join: PostgreSQL estimates a union's few rows
    well and reads a list's rows by its project index, where the ``OR`` made it guess
    dozens of projects and scan a whole table (the handovers count at 100 000: 20 -> 3 ms)."""
    held = assignments.order_by().values("project_id")
    return held.union(Project.objects.filter(team__leader=user).order_by().values("pk"))


def projects_allowing(user, action):
    """Projects where ``user`` may take ``action``, as one queryset: the
    "may I" of ``can`` asked of every project at once (the new-handover
    form's choices, the review queue), from the same tables."""
    action = Action(action)
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    if user.is_superuser and action in LEADER_ACTIONS:
        return Project.objects.all()
    roles = [role for role, actions in ROLE_ACTIONS.items() if action in actions]
    assignments = RoleAssignment.objects.filter(user=user, role__in=roles)
    if action in LEADER_ACTIONS:
        return Project.objects.filter(pk__in=_held_or_led(assignments, user))
    return Project.objects.filter(pk__in=assignments.order_by().values("project_id"))


def figure_projects(user):
    """Projects whose figures ``user`` may see on a dashboard, its CSV and its
    API (a manager's projects, a leader's team, every project for a superuser):
    every dashboard figure is computed over these and nothing else."""
    return projects_allowing(user, Action.VIEW_DASHBOARD)


def people_allowing(project, action):
    """Everyone who may take ``action`` on ``project`` through a role on it (the
    engineers who review its handovers, say), as a queryset of users."""
    from django.contrib.auth import get_user_model

    action = Action(action)
    roles = [role for role, actions in ROLE_ACTIONS.items() if action in actions]
    return get_user_model().objects.filter(
        is_active=True, role_assignments__project=project, role_assignments__role__in=roles,
    ).distinct()


def visible_teams(user):
    """Teams this user leads or holds a role in (all of them for a superuser)."""
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(
        Q(leader=user) | Q(projects__role_assignments__user=user)
    ).distinct()


def scope(queryset, user, project_field="project"):
    """Limit any queryset of project-owned objects to what ``user`` may see."""
    return queryset.filter(**{f"{project_field}__in": visible_projects(user).values("pk")})


def project_of(obj):
    """The project an object belongs to (walks ``.project`` attributes)."""
    seen = 0
    while not isinstance(obj, Project):
        obj = obj.project
        seen += 1
        if seen > 5:  # pragma: no cover - a model without a path to a project
            raise TypeError(f"{type(obj).__name__} has no project")
    return obj


def role_of(user, project):
    """The user's role on the project, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    cache = user.__dict__.setdefault("_handoff_roles", {})
    if project.pk not in cache:
        cache[project.pk] = (
            RoleAssignment.objects.filter(user=user, project=project).values_list("role", flat=True).first()
        )
    return cache[project.pk]


def remember_roles(user, projects):
    """Read ``user``'s roles on all of ``projects`` in one query, into the
    cache ``role_of`` reads: a page of rows from many projects (the triage
    queue) then asks ``allowed_actions`` of each row without a query per project."""
    if not getattr(user, "is_authenticated", False):
        return
    cache = user.__dict__.setdefault("_handoff_roles", {})
    wanted = {project.pk for project in projects} - set(cache)
    if not wanted:
        return
    found = dict(RoleAssignment.objects.filter(user=user, project_id__in=wanted)
                 .values_list("project_id", "role"))
    for pk in wanted:
        cache[pk] = found.get(pk)


def _team_actions(user, team):
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser or team.leader_id == user.pk:
        return LEADER_ACTIONS
    return set()


def allowed_actions(user, obj):
    """Every action ``user`` may take on ``obj`` (empty: not even seeing it)."""
    if isinstance(obj, Team):
        actions = set(_team_actions(user, obj))
        if not actions and visible_teams(user).filter(pk=obj.pk).exists():
            actions = {Action.VIEW}
        return actions
    project = project_of(obj)
    actions = set(_team_actions(user, project.team))
    role = role_of(user, project)
    if role:
        actions |= ROLE_ACTIONS[Role(role)]
        if getattr(obj, "owner_id", None) == user.pk:
            actions |= OWNER_ACTIONS
    return actions


def hides_labels(user, obj):
    """Whether ``obj`` (a handover, a contract) holds its labels blind from
    ``user``: they see no labels file and no row-level finding about it."""
    return bool(getattr(obj, "labels_blind", False)) and not can(user, Action.READ_BLIND_LABELS, obj)


def require_administrator(user):
    """Raise Forbidden unless ``user`` may run the whole installation
    (create teams): superusers only."""
    if not (getattr(user, "is_authenticated", False) and user.is_superuser):
        raise Forbidden("Only an administrator may do this.")


def can(user, action, obj):
    return Action(action) in allowed_actions(user, obj)


def require(user, action, obj):
    """Raise NotFound if ``obj`` is out of reach, Forbidden if ``action`` is not allowed."""
    actions = allowed_actions(user, obj)
    if Action.VIEW not in actions:
        raise NotFound("Not found.")
    if Action(action) not in actions:
        raise Forbidden(f"Your role does not allow you to {Action(action).value.replace('_', ' ')} here.")


# --- what a person may do anywhere: the navigation and the home page's sections ---

# Marks, in ``reach``'s one query, a row for a team the user leads.
_LEADER = "team_leader"


class Reach:
    """What ``user`` may do on at least one project, and in which teams.

    ``allows(action)`` is ``projects_allowing(user, action).exists()`` asked
    of every action at once: from the same tables (``ROLE_ACTIONS``,
    ``LEADER_ACTIONS``), read by ``reach`` in one query."""

    def __init__(self, grants, everywhere=frozenset()):
        self.grants = frozenset(grants)  # (action, team slug): the action on some project of the team
        self.everywhere = frozenset(everywhere)  # a superuser's actions, on every project

    def allows(self, action):
        action = Action(action)
        return action in self.everywhere or any(granted == action for granted, _ in self.grants)

    def teams_allowing(self, action):
        """Slugs of the teams where ``action`` is allowed on some project,
        sorted; None when it is allowed on every project (a superuser)."""
        action = Action(action)
        if action in self.everywhere:
            return None
        return sorted({slug for granted, slug in self.grants if granted == action})


def reach(user):
    """``Reach`` of ``user``, read in one query and kept on the user object
    for the request (the navigation and the home page both ask)."""
    if not getattr(user, "is_authenticated", False):
        return Reach(())
    cached = user.__dict__.get("_handoff_reach")
    if cached is not None:
        return cached
    # Unordered: the models' default orderings would join users and teams only to sort.
    roles = RoleAssignment.objects.filter(user=user).order_by().values_list("role", "project__team__slug")
    led = Project.objects.filter(team__leader=user).order_by().values_list(
        Value(_LEADER, output_field=CharField()), "team__slug"
    )
    rows = roles.union(led)
    grants = set()
    for role, team_slug in rows:
        actions = LEADER_ACTIONS if role == _LEADER else ROLE_ACTIONS.get(role, ())
        grants |= {(action, team_slug) for action in actions}
    result = Reach(grants, LEADER_ACTIONS if user.is_superuser else ())
    user.__dict__["_handoff_reach"] = result
    return result
