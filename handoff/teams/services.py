"""Every change to teams, projects and memberships.

Each function asks ``handoff.access`` whether the actor may act, checks its
input and raises ``DomainError`` with a message a person can act on (nothing
is changed then), writes in one transaction and records an audit event. The
pages, the API and the admin all call these.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from handoff import access
from handoff.access import Action
from handoff.audit.services import record
from handoff.core.errors import Conflict, DomainError
from handoff.core.locking import lock_row

from .models import Project, Role, RoleAssignment, Stage, Team

NAME_MAX_LENGTH = Team._meta.get_field("name").max_length


def _resolve_user(username_or_user, *, field="username", what="the person to add"):
    """The active user named by a username (or the user given)."""
    User = get_user_model()
    if isinstance(username_or_user, User):
        user = username_or_user
    else:
        username = str(username_or_user or "").strip()
        if not username:
            raise DomainError(f"Enter the username of {what}.", field=field)
        user = User.objects.filter(username=username).first()
        if user is None:
            # People type "Alice" for "alice"; accept it when it names one account only.
            matches = list(User.objects.filter(username__iexact=username)[:2])
            user = matches[0] if len(matches) == 1 else None
        if user is None:
            raise DomainError(
                f"There is no user called “{username}”. Check the spelling, "
                "or ask an administrator to create the account.",
                field=field,
            )
    if not user.is_active:
        raise DomainError(f"{user.username}'s account is deactivated.", field=field)
    return user


def _valid_role(role):
    if role not in Role.values:
        raise DomainError(
            f"“{role}” is not a role. Choose one of: {', '.join(str(label) for label in Role.labels)}.",
            field="role",
        )
    return Role(role)


def _valid_name(name, *, what):
    name = str(name or "").strip()
    if not name:
        raise DomainError(f"Give the {what} a name.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError(f"Keep the {what}'s name to {NAME_MAX_LENGTH} characters or fewer.", field="name")
    return name


def _valid_slug(slug, name, model, *, what):
    slug = str(slug or "").strip() or slugify(name)
    try:
        validate_slug(slug)
    except ValidationError:
        raise DomainError(
            f"“{slug}” cannot be used in a web address: "
            "use only letters, numbers, hyphens and underscores.",
            field="slug",
        ) from None
    if len(slug) > model._meta.get_field("slug").max_length:
        raise DomainError("That web address (slug) is too long.", field="slug")
    if model.objects.filter(slug=slug).exists():
        raise DomainError(
            f"Another {what} already uses the web address “{slug}”; choose another.", field="slug"
        )
    return slug


def _already_member_message(user, role_label):
    return (
        f"{user.username} already holds a role on this project ({role_label}). "
        "Change their role instead."
    )


@transaction.atomic
def create_team(actor, *, name, slug, leader):
    """Create a team led by ``leader`` (a user or a username). Superusers only.

    ``slug`` may be empty: it is then made from the name."""
    access.require_administrator(actor)
    name = _valid_name(name, what="team")
    if Team.objects.filter(name__iexact=name).exists():
        raise DomainError(f"There is already a team called “{name}”.", field="name")
    slug = _valid_slug(slug, name, Team, what="team")
    leader = _resolve_user(leader, field="leader", what="the team's leader")
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name, slug=slug, leader=leader)
    except IntegrityError:
        raise Conflict(f"A team called “{name}” was created a moment ago.", field="name") from None
    record(actor, "team.created", team, leader=leader.username)
    return team


@transaction.atomic
def create_project(actor, team, *, name, slug, description="", stage=Stage.PROBLEM_FORMULATION):
    """Create a project in ``team``. The team's leader and superusers may call it."""
    access.require(actor, Action.MANAGE_MEMBERS, team)
    name = _valid_name(name, what="project")
    if team.projects.filter(name__iexact=name).exists():
        raise DomainError(f"{team.name} already has a project called “{name}”.", field="name")
    slug = _valid_slug(slug, name, Project, what="project")
    if stage not in Stage.values:
        raise DomainError(
            f"“{stage}” is not a stage. Choose one of: {', '.join(str(label) for label in Stage.labels)}.",
            field="stage",
        )
    try:
        with transaction.atomic():
            project = Project.objects.create(
                team=team, name=name, slug=slug, description=str(description or "").strip(), stage=stage
            )
    except IntegrityError:
        raise Conflict(f"A project called “{name}” was created a moment ago.", field="name") from None
    record(actor, "project.created", project, project=project, team=team.slug)
    return project


@transaction.atomic
def add_member(actor, project, *, username_or_user, role):
    """Give a person one role on ``project``. The team's leader and superusers may call it."""
    access.require(actor, Action.MANAGE_MEMBERS, project)
    role = _valid_role(role)
    user = _resolve_user(username_or_user)
    existing = RoleAssignment.objects.filter(project=project, user=user).first()
    if existing is not None:
        raise DomainError(_already_member_message(user, existing.get_role_display()), field="username")
    try:
        # A savepoint, so that losing a race to the unique constraint leaves
        # the outer transaction usable for the clear message below.
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(user=user, project=project, role=role)
    except IntegrityError:
        raise DomainError(_already_member_message(user, "added a moment ago"), field="username") from None
    record(actor, "member.added", assignment, project=project, user=user.username, role=role.value)
    return assignment


def _lock_assignment(assignment):
    try:
        return lock_row(RoleAssignment.objects.all(), pk=assignment.pk)
    except RoleAssignment.DoesNotExist:
        raise Conflict("That person was removed from the project a moment ago; reload the page.") from None


@transaction.atomic
def change_role(actor, assignment, *, role):
    """Change a member's role on their project. The team's leader and superusers may call it."""
    project = assignment.project
    access.require(actor, Action.MANAGE_MEMBERS, project)
    role = _valid_role(role)
    locked = _lock_assignment(assignment)
    if locked.role == role:
        raise DomainError(
            f"{locked.user.username} already has the role {role.label} on this project.", field="role"
        )
    previous = locked.role
    locked.role = role
    locked.save(update_fields=["role"])
    record(
        actor, "member.role_changed", locked, project=project,
        user=locked.user.username, previous_role=previous, role=role.value,
    )
    return locked


@transaction.atomic
def remove_member(actor, assignment):
    """Take a person's role on their project away. The team's leader and superusers may call it."""
    project = assignment.project
    access.require(actor, Action.MANAGE_MEMBERS, project)
    locked = _lock_assignment(assignment)
    # Recorded before the delete, while the row still has its id.
    record(actor, "member.removed", locked, project=project, user=locked.user.username, role=locked.role)
    locked.delete()
    return locked
