"""Every page and every API endpoint runs as many queries with 8 of each thing
it lists as with 2 (an N+1 shows as growth), under a stated ceiling, and shows
what was added (``tests/querycount.py``).

Each test names the route it covers; the last tests walk the URL resolver and
fail naming any GET route without one, so a page or endpoint added later
needs a query-count test here (or a reason in ``NOT_MEASURED``).

Ceilings: the queries each page needs today with two queries of headroom.
"""

import itertools
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from handoff.handovers.models import ArtifactKind, HandoverState, Metric, ReviewDecision
from handoff.incidents.models import ActionItem, EventKind, TimelineEvent
from handoff.teams.models import Role
from tests.factories import (
    ArtifactFactory,
    AuditEventFactory,
    CheckResultFactory,
    ClaimedMetricFactory,
    CommentFactory,
    HandoverFactory,
    IncidentFactory,
    ModelFactory,
    ProjectFactory,
    ReviewFactory,
    RevisionFactory,
    RoleAssignmentFactory,
    TeamFactory,
    UserFactory,
    ValidationRunFactory,
)
from tests.querycount import COVERED, assert_queries_do_not_grow, covers

# The revision a handover page shows: numbered above every revision the tests add before it.
CURRENT = 100
_serial = itertools.count(1)


def mark(prefix):
    """A name no other row has, to look for on the page (fixed width: none is part of another)."""
    return f"{prefix}{next(_serial):05d}"


def person(project=None, role=Role.DATA_SCIENTIST):
    """A new user (shown as "Qc00001 Tester"), holding ``role`` on ``project`` when given."""
    username = mark("qc")
    user = UserFactory(username=username, first_name=username.capitalize(), last_name="Tester")
    if project is not None:
        RoleAssignmentFactory(user=user, project=project, role=role)
    return user


def project_of_mine(user, role=Role.DATA_SCIENTIST, team=None):
    """A new project (in a new team unless one is given) where ``user`` holds ``role``."""
    project = ProjectFactory(team=team or TeamFactory(leader=person()), name=mark("Project"),
                             slug=mark("project"))
    RoleAssignmentFactory(user=user, project=project, role=role)
    return project


def handover_in(project, *, owner=None, reviewer=None, state=HandoverState.DRAFT, revisions=2):
    """A handover of a new model in ``project`` with ``revisions`` revisions, the last one current."""
    owner = owner or person(project)
    handover = HandoverFactory(
        model=ModelFactory(project=project, owner=owner, name=mark("model")), version_label=mark("v"),
        state=state, reviewer=reviewer,
        awaiting_review_since=timezone.now() if state == HandoverState.AWAITING_REVIEW else None,
    )
    for number in range(1, revisions + 1):
        RevisionFactory(handover=handover, number=number)
    return handover


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(db):
    """Team Retention (leader lee) with project Churn Alpha, a data scientist and an ML engineer on it."""
    team = TeamFactory(name="Retention", slug="retention", leader=UserFactory(username="lee"))
    project = ProjectFactory(team=team, name="Churn Alpha", slug="churn-alpha")
    return SimpleNamespace(
        team=team, project=project, leader=team.leader,
        scientist=person(project, Role.DATA_SCIENTIST), engineer=person(project, Role.ML_ENGINEER),
    )


class RichHandover:
    """A draft handover whose page grows in every list it shows.

    ``grow(n)`` adds n older revisions (submitted, each with a review by
    another engineer), n claimed metrics and n artifacts (each uploaded by
    someone else) on the current revision ``CURRENT``, n comments by n people
    and n audit events; it returns a ``SimpleNamespace`` per revision added."""

    def __init__(self, world):
        self.world = world
        self.handover = HandoverFactory(
            model=ModelFactory(project=world.project, owner=world.scientist, name="churn-gbm"),
            version_label="2.0.0",
        )
        self.current = RevisionFactory(handover=self.handover, number=CURRENT)
        self.numbers = itertools.count(1)
        self.metrics = iter(Metric)

    def grow(self, n):
        project, rows = self.world.project, []
        for _ in range(n):
            number = next(self.numbers)
            revision = RevisionFactory(handover=self.handover, number=number, submitted_at=timezone.now(),
                                       submitted_by=self.world.scientist)
            review = ReviewFactory(revision=revision, reviewer=person(project, Role.ML_ENGINEER),
                                   decision=ReviewDecision.REQUEST_CHANGES, comment=mark("review"))
            claim = ClaimedMetricFactory(revision=self.current, metric=next(self.metrics),
                                         claimed_value=float(f"0.{50 + number}"), minimum=None)
            artifact = ArtifactFactory(revision=self.current, kind=ArtifactKind.OTHER,
                                       original_name=f"{mark('evidence')}.csv",
                                       uploaded_by=person(project, Role.DATA_SCIENTIST))
            comment = CommentFactory(handover=self.handover, author=person(project, Role.DATA_ENGINEER),
                                     body=mark("comment"))
            AuditEventFactory(project=project, actor=artifact.uploaded_by, verb="artifact.attached",
                              details={"handover": self.handover.pk, "kind": "other",
                                       "name": artifact.original_name, "revision": CURRENT})
            rows.append(SimpleNamespace(number=number, review=review, claim=claim, artifact=artifact,
                                        comment=comment))
        return rows

    @staticmethod
    def on_page(rows):
        """What the handover page shows of ``rows``: history, discussion, claims, files, activity."""
        return [
            text
            for row in rows
            for text in (
                f"Revision {row.number}</a>", row.review.comment, row.review.reviewer.display_name,
                f'<td class="num">{row.claim.claimed_value}</td>', row.artifact.original_name,
                row.comment.body, row.comment.author.display_name,
                f"attached the other file {row.artifact.original_name} to revision {CURRENT}",
            )
        ]

    @staticmethod
    def in_json(rows, *, revisions=True):
        """What the API shows of ``rows``: the current revision's claims and files, and
        (for the whole handover) the other revisions' reviews and the comments."""
        texts = []
        for row in rows:
            texts += [f'"claimed_value":{row.claim.claimed_value}',
                      f'"original_name":"{row.artifact.original_name}"',
                      f'"uploaded_by":"{row.artifact.uploaded_by.username}"']
            if revisions:
                texts += [f'"reviewer":"{row.review.reviewer.username}"', f'"comment":"{row.review.comment}"',
                          f'"author":"{row.comment.author.username}"', f'"body":"{row.comment.body}"']
        return texts


# --- pages -----------------------------------------------------------------------------------------


@covers("home")
def test_home_queries_do_not_grow_with_my_projects(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist, Role.ML_ENGINEER)
            shown += [project.name, project.team.name]
        return shown

    # 14: a data scientist who also reviews sees every section of both roles (the tests per role
    # are at the end), and is told how to file a first handover (one more query).
    assert_queries_do_not_grow(logged_in(world.scientist), reverse("home"), grow, ceiling=14)


@covers("handovers:list")
def test_handovers_list_queries_do_not_grow_with_handovers(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist)
            reviewer = person(project, Role.ML_ENGINEER)
            handover = handover_in(project, reviewer=reviewer, state=HandoverState.ACCEPTED)
            shown += [handover.model.name, project.name, handover.owner.display_name, reviewer.display_name]
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), reverse("handovers:list"), grow, ceiling=7)


@covers("handovers:mine")
def test_my_handovers_queries_do_not_grow_with_my_handovers(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist)
            reviewer = person(project, Role.ML_ENGINEER)
            handover = handover_in(project, owner=world.scientist, reviewer=reviewer,
                                   state=HandoverState.CHANGES_REQUESTED)
            shown += [handover.model.name, project.name, reviewer.display_name]
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), reverse("handovers:mine"), grow, ceiling=6)


@covers("handovers:review_queue")
def test_review_queue_queries_do_not_grow_with_handovers_awaiting_review(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.engineer, Role.ML_ENGINEER)
            handover = handover_in(project, state=HandoverState.AWAITING_REVIEW)
            shown += [handover.model.name, project.name, handover.owner.display_name]
        return shown

    assert_queries_do_not_grow(logged_in(world.engineer), reverse("handovers:review_queue"), grow, ceiling=6)


# 12 queries with 2 projects and 24 with 8 while the form asked access.can() of each
# project; 5 at both since it asks access.projects_allowing() once.
@covers("handovers:new")
def test_new_handover_form_queries_do_not_grow_with_my_projects_and_models(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist)
            model = ModelFactory(project=project, owner=world.scientist, name=mark("model"))
            shown += [project.name, model.name]
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), reverse("handovers:new"), grow, ceiling=7)


def _project_page_grow(world, *, member_forms=False):
    def grow(n):
        shown = []
        for role in itertools.islice(itertools.cycle(Role), n):
            someone = person(world.project, role)
            handover = handover_in(world.project, reviewer=world.engineer, state=HandoverState.ACCEPTED)
            shown += [someone.username, someone.display_name, handover.model.name,
                      handover.owner.display_name]
            if member_forms:  # the team leader changes or removes each member
                shown.append(f"New role for {someone.username}")
        return shown

    return grow


@covers("teams:project")
def test_project_page_queries_do_not_grow_with_members_and_handovers(world):
    url = reverse("teams:project", args=[world.project.slug])
    assert_queries_do_not_grow(logged_in(world.scientist), url, _project_page_grow(world), ceiling=8)


@covers("teams:project")
def test_project_page_with_member_forms_queries_do_not_grow_with_members(world):
    url = reverse("teams:project", args=[world.project.slug])
    grow = _project_page_grow(world, member_forms=True)
    assert_queries_do_not_grow(logged_in(world.leader), url, grow, ceiling=8)


@covers("teams:team")
def test_team_page_queries_do_not_grow_with_the_teams_projects(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist, Role.MANAGER, team=world.team)
            ProjectFactory(team=world.team)  # one I am not on: not listed
            shown.append(project.name)
        return shown

    url = reverse("teams:team", args=[world.team.slug])
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=8)


@covers("handovers:detail")
def test_handover_page_queries_do_not_grow_with_revisions_artifacts_claims_and_discussion(world):
    page = RichHandover(world)

    def grow(n):
        return page.on_page(page.grow(n))

    # 14: one of them lists the handover's incidents (incidents' template tag).
    assert_queries_do_not_grow(logged_in(world.scientist), page.handover.get_absolute_url(), grow,
                               ceiling=14)


@covers("handovers:detail")
def test_owner_page_after_a_change_request_queries_do_not_grow_and_the_request_costs_none(world):
    # The reviewer's comment at the top of the owner's page comes from the revisions and
    # reviews the page already reads: the same queries as anyone else's page of it.
    page = RichHandover(world)
    page.current.submitted_at, page.current.submitted_by = timezone.now(), world.scientist
    page.current.save()
    request = ReviewFactory(revision=page.current, reviewer=world.engineer, comment=mark("request"),
                            decision=ReviewDecision.REQUEST_CHANGES)
    page.handover.state, page.handover.reviewer = HandoverState.CHANGES_REQUESTED, world.engineer
    page.handover.save()
    top = f'<blockquote class="prose"><p>{request.comment}</p></blockquote>'

    def grow(n):
        return [top, *page.on_page(page.grow(n))]

    url = page.handover.get_absolute_url()
    # 15: +1 for the navigation's one query of what the roles allow (dashboards/context_processors.py).
    _, owner = assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=15)
    reviewer = logged_in(world.engineer)
    reviewer.get(url)  # fills per-process caches, as for the owner
    with CaptureQueriesContext(connection) as queries:
        assert top not in reviewer.get(url).content.decode()
    assert owner == len(queries)


@covers("handovers:diff")
def test_diff_page_queries_do_not_grow_with_revisions_claims_and_artifacts(world):
    page = RichHandover(world)

    def grow(n):
        # Every revision is offered in the two selects; compared with revision 1 (which
        # has none), every claim and file of the current revision is a new row.
        return [
            text
            for row in page.grow(n)
            for text in (f'<option value="{row.number}"', f'<td class="new">{row.claim.claimed_value}</td>',
                         f"{row.artifact.original_name} (sha256 {row.artifact.sha256})")
        ]

    url = f"{reverse('handovers:diff', args=[page.handover.pk])}?from=1&to={CURRENT}"
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=10)


@covers("handovers:state")
def test_handover_state_partial_queries_do_not_grow_with_the_handover(world):
    page = RichHandover(world)
    url = reverse("handovers:state", args=[page.handover.pk])
    # The partial shows the state only; what grows is read with the handover and must not cost a row each.
    assert_queries_do_not_grow(logged_in(world.scientist), url, page.grow, ceiling=10, shown=False)


@covers("handovers:edit")
def test_edit_terms_page_queries_do_not_grow_with_claims_and_revisions(world):
    page = RichHandover(world)

    def grow(n):
        return [f'value="{row.claim.claimed_value}"' for row in page.grow(n)]  # a metric row each

    url = reverse("handovers:edit", args=[page.handover.pk])
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=13)


def _more_of_everything(user):
    """For pages that list none of it: projects, handovers and members around ``user``."""

    def grow(n):
        for _ in range(n):
            project = project_of_mine(user)
            handover_in(project, reviewer=person(project, Role.ML_ENGINEER), state=HandoverState.ACCEPTED)
        return []

    return grow


@covers("api_token")
def test_api_token_page_queries_do_not_grow_with_my_projects(world):
    assert_queries_do_not_grow(logged_in(world.scientist), reverse("api_token"),
                               _more_of_everything(world.scientist), ceiling=5, shown=False)


@covers("password_change", "password_change_done")
def test_password_pages_queries_do_not_grow_with_my_projects(world):
    client, grow = logged_in(world.scientist), _more_of_everything(world.scientist)
    for route in ("password_change", "password_change_done"):
        assert_queries_do_not_grow(client, reverse(route), grow, ceiling=4, shown=False)


# --- API ---------------------------------------------------------------------------------------------


@covers("team-list")
def test_api_team_list_queries_do_not_grow_with_teams_and_projects(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist, Role.MANAGER)
            ProjectFactory(team=project.team)  # in the team but not mine: not listed
            shown += [f'"slug":"{project.team.slug}"', f'"slug":"{project.slug}"',
                      f'"username":"{project.team.leader.username}"']
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), "/api/v1/teams/", grow, ceiling=7)


@covers("team-detail")
def test_api_team_detail_queries_do_not_grow_with_the_teams_projects(world):
    def grow(n):
        return [f'"slug":"{project_of_mine(world.scientist, team=world.team).slug}"' for _ in range(n)]

    url = f"/api/v1/teams/{world.team.slug}/"
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=6)


@covers("project-list")
def test_api_project_list_queries_do_not_grow_with_projects_and_members(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist)
            members = [person(project, role) for role in (Role.ML_ENGINEER, Role.MANAGER)]
            shown += [f'"slug":"{project.slug}"', f'"slug":"{project.team.slug}"',
                      *(f'"username":"{m.username}"' for m in members)]
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), "/api/v1/projects/", grow, ceiling=7)


@covers("project-detail")
def test_api_project_detail_queries_do_not_grow_with_members(world):
    def grow(n):
        return [f'"username":"{person(world.project, Role.DATA_ENGINEER).username}"' for _ in range(n)]

    url = f"/api/v1/projects/{world.project.slug}/"
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=6)


@covers("api-model-list")
def test_api_model_list_queries_do_not_grow_with_models(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist)
            model = ModelFactory(project=project, owner=person(project), name=mark("model"))
            shown += [f'"name":"{model.name}"', f'"project":"{project.slug}"',
                      f'"owner":"{model.owner.username}"']
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), "/api/v1/models/", grow, ceiling=6)


@covers("api-handover-list")
def test_api_handover_list_queries_do_not_grow_with_handovers(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist)
            reviewer = person(project, Role.ML_ENGINEER)
            handover = handover_in(project, reviewer=reviewer, state=HandoverState.ACCEPTED, revisions=3)
            shown += [f'"version_label":"{handover.version_label}"', f'"name":"{handover.model.name}"',
                      f'"project":"{project.slug}"', f'"owner":"{handover.owner.username}"',
                      f'"reviewer":"{reviewer.username}"']
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), "/api/v1/handovers/", grow, ceiling=6)


@covers("api-handover-detail")
def test_api_handover_detail_queries_do_not_grow_with_revisions_artifacts_claims_and_comments(world):
    page = RichHandover(world)

    def grow(n):
        return page.in_json(page.grow(n))

    url = f"/api/v1/handovers/{page.handover.pk}/"
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=10)


@covers("api-handover-revision")
def test_api_revision_queries_do_not_grow_with_claims_and_artifacts(world):
    page = RichHandover(world)

    def grow(n):
        return page.in_json(page.grow(n), revisions=False)

    url = f"/api/v1/handovers/{page.handover.pk}/revisions/{CURRENT}/"
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=10)


@covers("api-validation-run-list")
def test_api_validation_run_list_queries_do_not_grow_with_runs_and_checks(world):
    def grow(n):
        shown = []
        for _ in range(n):
            handover = handover_in(project_of_mine(world.scientist), revisions=1)
            run = ValidationRunFactory(revision=handover.revisions.get(), number=1, worker=mark("worker"))
            for _ in range(3):
                CheckResultFactory(run=run, key=mark("metric.accuracy"))
            shown += [f'"worker":"{run.worker}"', f'"handover":{handover.pk}']
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), "/api/v1/validation-runs/", grow, ceiling=6)


@covers("api-validation-run-detail")
def test_api_validation_run_detail_queries_do_not_grow_with_checks(world):
    handover = handover_in(world.project, revisions=1)
    run = ValidationRunFactory(revision=handover.revisions.get(), number=1)

    def grow(n):
        return [f'"check":"{CheckResultFactory(run=run, key=mark("metric.accuracy")).key}"' for _ in range(n)]

    url = f"/api/v1/validation-runs/{run.pk}/"
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=6)


# --- notifications -----------------------------------------------------------------------------------


def tell(user, n, *, kind="commented"):
    """``n`` notifications for ``user``, each from its own audit event by another person, as the
    services write them; returns their subjects. Every other one is read."""
    from handoff.notifications.services import notify

    subjects = []
    for i in range(n):
        actor = person()
        event = AuditEventFactory(actor=actor, verb="handover.commented")
        subject = mark("Told")
        (notification,) = notify(event, [user], kind=kind, subject=subject, url="/handovers/",
                                 body=mark("body"))
        if i % 2:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
        subjects += [subject, actor.display_name]
    return subjects


@covers("notifications:list")
def test_notifications_page_queries_do_not_grow_with_notifications(world):
    assert_queries_do_not_grow(logged_in(world.scientist), reverse("notifications:list"),
                               lambda n: tell(world.scientist, n), ceiling=8)


@covers("notifications:bell")
def test_bell_queries_do_not_grow_with_notifications(world):
    assert_queries_do_not_grow(logged_in(world.scientist), reverse("notifications:bell"),
                               lambda n: tell(world.scientist, n), ceiling=5, shown=False)


@covers("notifications:preferences")
def test_notification_preferences_page_queries_do_not_grow_with_notifications(world):
    assert_queries_do_not_grow(logged_in(world.scientist), reverse("notifications:preferences"),
                               lambda n: tell(world.scientist, n), ceiling=5, shown=False)


@covers("api-notification-list")
def test_api_notification_list_queries_do_not_grow_with_notifications(world):
    def grow(n):
        told = tell(world.scientist, n)
        return [f'"subject":"{subject}"' for subject in told[::2]]

    assert_queries_do_not_grow(logged_in(world.scientist), "/api/v1/notifications/", grow, ceiling=6)


@covers("api-notification-preferences")
def test_api_notification_preferences_queries_do_not_grow_with_notifications(world):
    assert_queries_do_not_grow(logged_in(world.scientist), "/api/v1/notifications/preferences/",
                               lambda n: tell(world.scientist, n), ceiling=5, shown=False)
# --- webhooks ---------------------------------------------------------------------------------------


def _webhook(world):
    from handoff.notifications import webhooks

    return webhooks.create_webhook(world.project, url=f"https://93.184.215.14/{mark('hook')}",
                                   events=["handover.accepted"],
                                   created_by=person(world.project, Role.ML_ENGINEER))


def _deliveries(webhook, n):
    """n deliveries of ``webhook`` with two attempts each in the log; -> the error text of each."""
    from handoff.notifications.models import DeliveryState, WebhookDelivery

    shown = []
    for _ in range(n):
        error = mark("refused")
        attempts = [{"attempt": i, "at": timezone.now().isoformat(), "status_code": 500, "excerpt": "",
                     "error": error} for i in (1, 2)]
        WebhookDelivery.objects.create(webhook=webhook, event_name="webhook.test", payload={"text": "t"},
                                       state=DeliveryState.FAILED, attempts=2, status_code=500,
                                       last_error=error, log=attempts)
        shown.append(error)
    return shown


@covers("teams:webhooks")
def test_webhooks_page_queries_do_not_grow_with_webhooks(world):
    def grow(n):
        return [_webhook(world).url for _ in range(n)]

    url = reverse("teams:webhooks", args=[world.project.slug])
    assert_queries_do_not_grow(logged_in(world.engineer), url, grow, ceiling=7)


@covers("teams:webhook")
def test_webhook_log_page_queries_do_not_grow_with_deliveries(world):
    webhook = _webhook(world)
    url = reverse("teams:webhook", args=[world.project.slug, webhook.pk])
    assert_queries_do_not_grow(logged_in(world.leader), url, lambda n: _deliveries(webhook, n), ceiling=9)


@covers("project-webhook-list")
def test_api_webhook_list_queries_do_not_grow_with_webhooks(world):
    def grow(n):
        return [f'"url":"{_webhook(world).url}"' for _ in range(n)]

    url = f"/api/v1/projects/{world.project.slug}/webhooks/"
    assert_queries_do_not_grow(logged_in(world.engineer), url, grow, ceiling=8)


@covers("project-webhook-detail")
def test_api_webhook_detail_queries_do_not_grow_with_its_deliveries(world):
    webhook = _webhook(world)
    url = f"/api/v1/projects/{world.project.slug}/webhooks/{webhook.pk}/"
    assert_queries_do_not_grow(logged_in(world.engineer), url, lambda n: _deliveries(webhook, n),
                               ceiling=7, shown=False)


@covers("project-webhook-deliveries")
def test_api_webhook_deliveries_queries_do_not_grow_with_deliveries(world):
    webhook = _webhook(world)
    url = f"/api/v1/projects/{world.project.slug}/webhooks/{webhook.pk}/deliveries/"
    assert_queries_do_not_grow(logged_in(world.engineer), url, lambda n: _deliveries(webhook, n), ceiling=9)


# --- deployments ------------------------------------------------------------------------------------


def _deployment(world, **kwargs):
    from tests.factories import DeploymentFactory, accepted_handover

    handover, _ = accepted_handover(project=world.project, reviewer=world.engineer)
    return DeploymentFactory(handover=handover, deployed_by=world.engineer, **kwargs)


def _observations(deployment, n):
    """n observations of ``deployment`` in n batches; -> the value of each as the page shows it."""
    from tests.factories import MetricObservationFactory

    values = []
    for _ in range(n):
        value = 0.5 + next(_serial) / 10**6
        MetricObservationFactory(deployment=deployment, value=value)
        values.append(str(value))
    return values


def _tokens(world, n):
    from tests.factories import ingestion_token

    return [ingestion_token(world.project, created_by=person(world.project, Role.ML_ENGINEER),
                            name=mark("token"))[0].name for _ in range(n)]


@covers("deployments:detail")
def test_deployment_page_queries_do_not_grow_with_observations(world):
    deployment = _deployment(world)
    url = reverse("deployments:detail", args=[deployment.pk])
    assert_queries_do_not_grow(logged_in(world.engineer), url, lambda n: _observations(deployment, n),
                               ceiling=DEPLOYMENT_PAGE)


@covers("deployments:deploy")
def test_deploy_page_queries_do_not_grow_with_deployments(world):
    deployment = _deployment(world, traffic_share=0)

    def grow(n):
        return [_deployment(world, traffic_share=0).environment for _ in range(n)]

    url = reverse("deployments:deploy", args=[deployment.handover_id])
    assert_queries_do_not_grow(logged_in(world.engineer), url, grow, ceiling=DEPLOY_PAGE, shown=False)


@covers("deployments:tokens")
def test_tokens_page_queries_do_not_grow_with_tokens(world):
    url = reverse("deployments:tokens", args=[world.project.slug])
    assert_queries_do_not_grow(logged_in(world.engineer), url, lambda n: _tokens(world, n),
                               ceiling=TOKENS_PAGE)


@covers("api-deployment-list")
def test_api_deployment_list_queries_do_not_grow_with_deployments(world):
    def grow(n):
        return [f'"version_label":"{_deployment(world, traffic_share=0).handover.version_label}"'
                for _ in range(n)]

    assert_queries_do_not_grow(logged_in(world.engineer), "/api/v1/deployments/", grow,
                               ceiling=API_DEPLOYMENTS)


@covers("api-deployment-detail")
def test_api_deployment_detail_queries_do_not_grow_with_observations(world):
    deployment = _deployment(world)
    assert_queries_do_not_grow(logged_in(world.engineer), f"/api/v1/deployments/{deployment.pk}/",
                               lambda n: _observations(deployment, n), ceiling=API_DEPLOYMENT, shown=False)


@covers("api-deployment-observations")
def test_api_observations_queries_do_not_grow_with_observations(world):
    deployment = _deployment(world)
    url = f"/api/v1/deployments/{deployment.pk}/observations/"
    assert_queries_do_not_grow(logged_in(world.engineer), url, lambda n: _observations(deployment, n),
                               ceiling=API_OBSERVATIONS)


@covers("api-ingestion-token-list")
def test_api_token_list_queries_do_not_grow_with_tokens(world):
    assert_queries_do_not_grow(logged_in(world.engineer), "/api/v1/ingestion-tokens/",
                               lambda n: _tokens(world, n), ceiling=API_TOKENS)


@covers("api-ingestion-token-detail")
def test_api_token_detail_queries_do_not_grow_with_other_tokens(world):
    token = _tokens(world, 1) and world.project.ingestion_tokens.get()
    assert_queries_do_not_grow(logged_in(world.engineer), f"/api/v1/ingestion-tokens/{token.pk}/",
                               lambda n: _tokens(world, n), ceiling=API_TOKEN, shown=False)


# What each needs today, with two queries of headroom.
DEPLOYMENT_PAGE, DEPLOY_PAGE, TOKENS_PAGE = 10, 7, 7
API_DEPLOYMENTS, API_DEPLOYMENT, API_OBSERVATIONS, API_TOKENS, API_TOKEN = 6, 5, 7, 6, 7
# --- incidents -----------------------------------------------------------------------------------------


def _incidents(world, n, **kwargs):
    """n open incidents in Churn Alpha, each about a handover of its own model and assigned to an
    engineer of its own -> strings the queue shows of them."""
    shown = []
    for _ in range(n):
        handover = handover_in(world.project, revisions=1)
        assignee = person(world.project, Role.ML_ENGINEER)
        incident = IncidentFactory(project=world.project, handover=handover, assignee=assignee,
                                   reporter=person(world.project, Role.DATA_ENGINEER), title=mark("incident"),
                                   **kwargs)
        shown += [incident.title, handover.model.name, assignee.display_name]
    return shown


def _incident_history(incident, n):
    """n comments by n people and n action items owned by n people on ``incident``."""
    shown = []
    for _ in range(n):
        author = person(incident.project, Role.DATA_ENGINEER)
        event = TimelineEvent.objects.create(incident=incident, kind=EventKind.COMMENT, actor=author,
                                             body=mark("comment"), created_at=timezone.now())
        item = ActionItem.objects.create(incident=incident, text=mark("item"),
                                         owner=person(incident.project, Role.ML_ENGINEER))
        shown += [event.body, author.display_name, item.text, item.owner.display_name]
    return shown


@covers("incidents:triage")
def test_triage_queue_queries_do_not_grow_with_incidents(world):
    assert_queries_do_not_grow(logged_in(world.engineer), reverse("incidents:triage"),
                               lambda n: _incidents(world, n), ceiling=10)


@covers("handovers:detail")
def test_handover_page_queries_do_not_grow_with_its_incidents(world):
    handover = handover_in(world.project, revisions=1)

    def grow(n):
        shown = []
        for _ in range(n):
            incident = IncidentFactory(project=world.project, handover=handover, title=mark("incident"),
                                       assignee=person(world.project, Role.ML_ENGINEER))
            shown += [incident.title, incident.assignee.display_name]
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), handover.get_absolute_url(), grow, ceiling=14)


@covers("incidents:detail")
def test_incident_page_queries_do_not_grow_with_its_timeline_and_action_items(world):
    incident = IncidentFactory(project=world.project, handover=handover_in(world.project, revisions=1))
    assert_queries_do_not_grow(logged_in(world.engineer), incident.get_absolute_url(),
                               lambda n: _incident_history(incident, n), ceiling=14)


@covers("incidents:new")
def test_new_incident_page_queries_do_not_grow_with_projects_and_handovers(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist)
            handover = handover_in(project, revisions=1)
            shown += [project.name, handover.model.name]
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), reverse("incidents:new"), grow, ceiling=8)


@covers("api-incident-list")
def test_api_incident_list_queries_do_not_grow_with_incidents(world):
    def grow(n):
        return [f'"title":"{text}"' for text in _incidents(world, n)[::3]]

    assert_queries_do_not_grow(logged_in(world.engineer), "/api/v1/incidents/", grow, ceiling=8)


@covers("api-incident-timeline", "api-incident-comments")
def test_api_incident_timeline_and_comments_queries_do_not_grow_with_events(world):
    incident = IncidentFactory(project=world.project)

    def grow(n):
        return [f'"body":"{text}"' for text in _incident_history(incident, n)[::4]]

    for url in (f"/api/v1/incidents/{incident.pk}/timeline/", f"/api/v1/incidents/{incident.pk}/comments/"):
        assert_queries_do_not_grow(logged_in(world.engineer), url, grow, ceiling=8)


@covers("api-incident-postmortem")
def test_api_postmortem_queries_do_not_grow_with_action_items(world):
    incident = IncidentFactory(project=world.project)

    def grow(n):
        return [f'"text":"{text}"' for text in _incident_history(incident, n)[2::4]]

    url = f"/api/v1/incidents/{incident.pk}/postmortem/"
    assert_queries_do_not_grow(logged_in(world.engineer), url, grow, ceiling=8)


# --- contract pages ----------------------------------------------------------------------------------


def _contract(world, *, state="agreed", version=1, series=None, **fields):
    """A contract of Churn Alpha as rows (its pages are measured, not its services)."""
    from handoff.contracts.models import Contract

    extra = {"series": series} if series else {}
    return Contract.objects.create(project=world.project, title=mark("Contract"), state=state,
                                   version=version, task_type="binary_classification", latency_p95_ms=50,
                                   peak_memory_mb=500, max_parameter_count=100, created_by=world.engineer,
                                   **extra, **fields)


def _candidates(contract, n):
    """``n`` candidates of ``contract``, each with a finished run and its checks; their model names."""
    from handoff.contracts.models import Candidate

    names = []
    for _ in range(n):
        owner = person(contract.project, Role.DATA_SCIENTIST)
        model = ModelFactory(project=contract.project, owner=owner, name=mark("cand"))
        handover = HandoverFactory(model=model, version_label="1.0.0", state=HandoverState.AWAITING_REVIEW,
                                   is_candidate=True)
        revision = RevisionFactory(handover=handover, number=1)
        Candidate.objects.create(contract=contract, handover=handover)
        run = ValidationRunFactory(revision=revision, number=1)
        for position, (key, value) in enumerate((("metric.accuracy", 0.96), ("runtime.latency_p95_ms", 0.4),
                                                 ("runtime.peak_memory_mb", 90.0), ("model.parameters", 31))):
            CheckResultFactory(run=run, key=key, position=position, measured=value)
        names.append(handover.model.name)
    return names


@covers("contracts:list")
def test_contract_list_queries_do_not_grow_with_contracts(world):
    def grow(n):
        return [_contract(world).title for _ in range(n)]

    assert_queries_do_not_grow(logged_in(world.scientist), "/contracts/", grow, ceiling=8)


@covers("contracts:new")
def test_new_contract_form_queries_do_not_grow_with_my_projects(world):
    def grow(n):
        return [project_of_mine(world.engineer, Role.ML_ENGINEER).name for _ in range(n)]

    assert_queries_do_not_grow(logged_in(world.engineer), "/contracts/new/", grow, ceiling=6)


@covers("contracts:detail")
def test_contract_page_queries_do_not_grow_with_comments_signatures_files_and_candidates(world):
    from handoff.contracts.models import ContractComment, ContractSignature

    contract = _contract(world)
    contract.requirements.create(metric="accuracy", minimum=0.9)

    def grow(n):
        texts = []
        for _ in range(n):
            author = person(world.project, Role.DATA_ENGINEER)
            comment = ContractComment.objects.create(contract=contract, author=author, body=mark("comment"))
            signer = person(world.project, Role.ML_ENGINEER)
            ContractSignature.objects.create(contract=contract, signer=signer, role="ml_engineer",
                                             terms_sha256=mark("sha"))
            texts += [comment.body, author.display_name, signer.display_name]
        return texts + _candidates(contract, n)

    assert_queries_do_not_grow(logged_in(world.scientist), f"/contracts/{contract.pk}/", grow, ceiling=12)


@covers("contracts:edit")
def test_contract_edit_page_queries_do_not_grow_with_signatures_and_comments(world):
    from handoff.contracts.models import ContractComment, ContractSignature

    contract = _contract(world, state="draft")

    def grow(n):
        for _ in range(n):
            ContractComment.objects.create(contract=contract, author=world.scientist, body=mark("comment"))
            signer = person(world.project, Role.ML_ENGINEER)
            ContractSignature.objects.create(contract=contract, signer=signer, role="ml_engineer",
                                             terms_sha256=mark("sha"))
        return []

    assert_queries_do_not_grow(logged_in(world.engineer), f"/contracts/{contract.pk}/edit/", grow, ceiling=11,
                               shown=False)


@covers("contracts:diff")
def test_contract_diff_queries_do_not_grow_with_requirements(world):
    old = _contract(world)
    new = _contract(world, state="draft", version=2, series=old.series)
    metrics = iter(Metric)

    def grow(n):
        labels = []
        for _ in range(n):
            metric = next(metrics)
            old.requirements.create(metric=metric, minimum=0.5)
            new.requirements.create(metric=metric, minimum=0.25)
            labels.append(f"{metric.label}")
        return labels

    url = f"/contracts/{new.pk}/diff/?against={old.pk}"
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=13)


@covers("contracts:new_candidate")
def test_new_candidate_form_queries_do_not_grow_with_the_projects_models_and_requirements(world):
    contract = _contract(world)
    metrics = iter(Metric)

    def grow(n):
        names = []
        for _ in range(n):
            contract.requirements.create(metric=next(metrics), minimum=0.5)
            names.append(ModelFactory(project=world.project, owner=world.scientist, name=mark("model")).name)
        return names

    assert_queries_do_not_grow(logged_in(world.scientist), f"/contracts/{contract.pk}/candidates/new/", grow,
                               ceiling=12)


@covers("contracts:comparison")
def test_comparison_queries_do_not_grow_with_candidates(world):
    contract = _contract(world)
    contract.requirements.create(metric="accuracy", minimum=0.9)
    assert_queries_do_not_grow(logged_in(world.engineer), f"/contracts/{contract.pk}/comparison/",
                               lambda n: _candidates(contract, n), ceiling=11)


# --- contracts API -------------------------------------------------------------------------------------


def _agreed_contract(world, **kwargs):
    from tests.factories import agreed_contract

    return agreed_contract(world.project, world.scientist, world.engineer, title=mark("contract"), **kwargs)


def _api_contracts(world, n):
    """n draft contracts in Churn Alpha, each by a new engineer -> their titles as the list shows them."""
    from tests.factories import draft_contract

    titles = []
    for _ in range(n):
        author = person(world.project, Role.ML_ENGINEER)
        titles.append(f'"title":"{draft_contract(world.project, author, title=mark("contract")).title}"')
    return titles


@covers("api-contract-list")
def test_api_contract_list_queries_do_not_grow_with_contracts(world):
    assert_queries_do_not_grow(logged_in(world.engineer), "/api/v1/contracts/",
                               lambda n: _api_contracts(world, n), ceiling=API_CONTRACTS)


@covers("api-contract-detail")
def test_api_contract_detail_queries_do_not_grow_with_signatures(world):
    from handoff.contracts.models import ContractSignature

    contract = _agreed_contract(world)

    def grow(n):
        signers = [person(world.project, Role.ML_ENGINEER) for _ in range(n)]
        for signer in signers:
            ContractSignature.objects.create(contract=contract, signer=signer, role="ml_engineer",
                                             terms_sha256="0" * 64)
        return [f'"signer":"{signer.username}"' for signer in signers]

    assert_queries_do_not_grow(logged_in(world.engineer), f"/api/v1/contracts/{contract.pk}/", grow,
                               ceiling=API_CONTRACT)


@covers("api-contract-versions", "api-contract-diff")
def test_api_contract_versions_and_diff_queries_do_not_grow_with_versions(world):
    from handoff.contracts.models import Contract
    from handoff.contracts.services import terms_of

    contract = _agreed_contract(world)
    numbers = itertools.count(2)

    def grow(n):
        titles = []
        for _ in range(n):
            version = Contract.objects.create(project=world.project, series=contract.series,
                                              version=next(numbers), title=mark("version"),
                                              created_by=world.engineer, **terms_of(contract))
            titles.append(f'"title":"{version.title}"')
        return titles

    client = logged_in(world.engineer)
    assert_queries_do_not_grow(client, f"/api/v1/contracts/{contract.pk}/versions/", grow,
                               ceiling=API_VERSIONS)
    newest = Contract.objects.filter(series=contract.series).order_by("-version").first()
    assert_queries_do_not_grow(client, f"/api/v1/contracts/{newest.pk}/diff/?against={contract.pk}", grow,
                               ceiling=API_DIFF, shown=False)


@covers("api-contract-comments")
def test_api_contract_comments_queries_do_not_grow_with_comments(world):
    from handoff.contracts.models import ContractComment

    contract = _agreed_contract(world)

    def grow(n):
        comments = [ContractComment.objects.create(contract=contract, author=person(world.project),
                                                   body=mark("comment")) for _ in range(n)]
        return [f'"author":"{c.author.username}"' for c in comments] + [c.body for c in comments]

    assert_queries_do_not_grow(logged_in(world.engineer), f"/api/v1/contracts/{contract.pk}/comments/", grow,
                               ceiling=API_CONTRACT_COMMENTS)


@covers("api-contract-artifacts")
def test_api_contract_files_queries_do_not_grow_with_other_contracts(world):
    contract = _agreed_contract(world, labels_blind=True)
    # A contract holds two files at most: what could grow is the rest of the project's.
    assert_queries_do_not_grow(logged_in(world.scientist), f"/api/v1/contracts/{contract.pk}/artifacts/",
                               lambda n: _api_contracts(world, n), ceiling=API_CONTRACT_FILES, shown=False)


@covers("api-contract-candidates")
def test_api_contract_candidates_queries_do_not_grow_with_candidates(world):
    from tests.factories import measured_candidate

    contract = _agreed_contract(world)

    def grow(n):
        names = [measured_candidate(contract, name=mark("candidate")).model.name for _ in range(n)]
        return [f'"name":"{name}"' for name in names]

    url = f"/api/v1/contracts/{contract.pk}/candidates/"
    assert_queries_do_not_grow(logged_in(world.engineer), url, grow, ceiling=API_CANDIDATES)


@covers("api-contract-comparison")
def test_api_comparison_queries_do_not_grow_from_3_to_30_candidates(world):
    from tests.factories import measured_candidate

    contract = _agreed_contract(world, labels_blind=True)

    def grow(n):
        names = [measured_candidate(contract, name=mark("candidate")).model.name for _ in range(n)]
        return [f'"model":"{name}"' for name in names]

    url = f"/api/v1/contracts/{contract.pk}/comparison/"
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=API_COMPARISON,
                               small=3, large=30)


# What each needs today, with two queries of headroom.
API_CONTRACTS, API_CONTRACT, API_VERSIONS, API_DIFF, API_CONTRACT_COMMENTS = 7, 12, 8, 10, 7
API_CONTRACT_FILES, API_CANDIDATES, API_COMPARISON = 8, 8, 9


# --- every route is measured ---------------------------------------------------------------------------

# GET routes without a query-count test, and why. Anything else that answers GET needs one above.
NOT_MEASURED = {
    "login": "the login form, for anonymous visitors; reads no data (a logged-in user is redirected)",
    "health": "a status probe for load balancers, not a page; its queries are the health checks",
    "metrics": "Prometheus' scrape for the operator: one GROUP BY over the runs, whatever their number",
    "handovers:download_artifact": "streams one file found by one scoped lookup; lists nothing",
    "contracts:download_file": "streams one contract file found by one scoped lookup; lists nothing",
    "api-artifact-download": "streams one file found by one scoped lookup; lists nothing",
    "api-contract-artifact-download": "streams one file of a contract found by scoped lookups; lists nothing",
    "api-model-detail": "one model with its project and owner (select_related); nests no list",
    "api-artifact-detail": "one artifact with its uploader (select_related); nests no list",
    "api-incident-detail": "one incident with its project and people (select_related); nests no list",
    "api-root": "the API index: links to the resources, reads no data",
    "schema": "the OpenAPI document, generated from code; reads no data",
    "api-docs": "Swagger UI over the schema; reads no data",
    "api-not-found": "answers a JSON 404 for an unknown /api/ address; reads no data",
}
NOT_MEASURED_NAMESPACES = {
    "admin": "Django's admin, for administrators; its list pages are Django's own (tests/audit, security)",
}


def _routes():
    """(name, URL with placeholder arguments, the view's DRF actions or None) of every named
    route outside ``NOT_MEASURED_NAMESPACES``."""

    def walk(patterns, prefix, params):
        for pattern in patterns:
            names = params + list(pattern.pattern.regex.groupindex)
            if isinstance(pattern, URLResolver):
                if pattern.namespace in NOT_MEASURED_NAMESPACES:
                    continue
                namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                yield from walk(pattern.url_patterns, namespace, names)
            elif pattern.name:
                yield prefix + pattern.name, names, getattr(pattern.callback, "actions", None)

    for name, params, actions in walk(get_resolver().url_patterns, "", []):
        yield name, reverse(name, kwargs=dict.fromkeys(params, "1")), actions


def _answers_get(client, url, actions):
    # A viewset route says which methods it maps; anything else is asked (405: not a GET route).
    if actions is not None:
        return "get" in actions
    return client.get(url).status_code != 405


def test_every_page_and_api_endpoint_that_answers_get_has_a_query_count_test(db):
    client = logged_in(UserFactory(username="root", is_superuser=True, is_staff=True))
    unmeasured = sorted(
        f"{name} ({url})"
        for name, url, actions in _routes()
        if name not in COVERED and name not in NOT_MEASURED and _answers_get(client, url, actions)
    )
    assert not unmeasured, (
        "These GET routes have no query-count test: add one to tests/test_query_counts.py with "
        "@covers(<route name>) and assert_queries_do_not_grow, or say in NOT_MEASURED why it needs none:\n  "
        + "\n  ".join(unmeasured)
    )


def test_query_count_tests_and_exclusions_name_routes_that_exist():
    names = {name for name, _, _ in _routes()}
    assert sorted(set(COVERED) - names) == []
    assert sorted(set(NOT_MEASURED) - names) == []
    assert sorted(set(COVERED) & set(NOT_MEASURED)) == []


# --- the model card (contracts.card_views) -------------------------------------------------------------


def _card_of_a_candidate(world):
    """An accepted candidate of an agreed contract, with a validation run of its signed revision;
    ``grow(n)`` adds n measured metrics to the run and n signatures to the contract."""
    from handoff.contracts.models import Candidate, ContractSignature
    from tests.factories import accepted_handover, agreed_contract

    handover, revision = accepted_handover(project=world.project, owner=world.scientist,
                                           reviewer=world.engineer)
    contract = agreed_contract(world.project, world.scientist, world.engineer)
    Candidate.objects.create(contract=contract, handover=handover)
    run = ValidationRunFactory(revision=revision, number=1,
                               environment={"cpu_model": "Test CPU", "threads": 1})
    ArtifactFactory(revision=revision, kind=ArtifactKind.LABELS)

    def grow(n):
        shown = []
        for _ in range(n):
            check = CheckResultFactory(run=run, key=f"metric.{mark('m')}", measured=0.9)
            signer = person(world.project, Role.ML_ENGINEER)
            ContractSignature.objects.create(contract=contract, signer=signer, role="ml_engineer",
                                             terms_sha256=mark("sha"))
            shown += [check.key.removeprefix("metric."), signer.username]
        return shown

    return handover, grow


@covers("contracts:model_card_markdown")
def test_model_card_markdown_queries_do_not_grow_with_checks_and_signatures(world):
    handover, grow = _card_of_a_candidate(world)
    url = reverse("contracts:model_card_markdown", args=[handover.pk])
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=12)


@covers("contracts:model_card")
def test_model_card_page_queries_do_not_grow_with_checks_and_signatures(world):
    handover, grow = _card_of_a_candidate(world)
    url = reverse("contracts:model_card", args=[handover.pk])
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=12)


@covers("api-handover-model-card")
def test_api_model_card_queries_do_not_grow_with_checks_and_signatures(world):
    handover, grow = _card_of_a_candidate(world)
    url = f"/api/v1/handovers/{handover.pk}/model-card/"
    assert_queries_do_not_grow(logged_in(world.scientist), url, grow, ceiling=12)


# --- dashboards ------------------------------------------------------------------------------------


def _team_figures(world, n, people="display_name"):
    """n projects of Retention, each with a handover accepted this week, a production deployment
    worth something, an incident being worked by an engineer of its own and a failed check of
    its own -> strings the dashboard shows of them (project names, people, check keys)."""
    from datetime import timedelta
    from decimal import Decimal

    from handoff.handovers.models import Revision
    from handoff.validation.models import CheckStatus, RunState
    from tests.factories import DeploymentFactory, accepted_handover

    now = timezone.now()
    shown = []
    for _ in range(n):
        project = ProjectFactory(team=world.team, name=mark("project"))
        handover, revision = accepted_handover(project=project)
        Revision.objects.filter(pk=revision.pk).update(submitted_at=now - timedelta(hours=5))
        run = ValidationRunFactory(revision=revision, number=1, state=RunState.FAILED, finished_at=now)
        CheckResultFactory(run=run, key=mark("check"), status=CheckStatus.FAIL)
        deployment = DeploymentFactory(handover=handover, monthly_value=Decimal("100"))
        engineer = person(project, Role.ML_ENGINEER)
        IncidentFactory(project=project, deployment=deployment, assignee=engineer)
        shown += [project.name, getattr(engineer, people), run.checks.get().key]
    return shown


@covers("dashboards:team")
def test_team_dashboard_queries_do_not_grow_with_projects_handovers_and_incidents(world, settings):
    settings.HANDOFF_DASHBOARD_CACHE_SECONDS = 0  # measure the figures, not the cache
    assert_queries_do_not_grow(logged_in(world.leader), reverse("dashboards:team", args=[world.team.slug]),
                               lambda n: _team_figures(world, n), ceiling=32)


@covers("dashboards:team_csv")
def test_team_dashboard_csv_queries_do_not_grow(world, settings):
    settings.HANDOFF_DASHBOARD_CACHE_SECONDS = 0
    url = reverse("dashboards:team_csv", args=[world.team.slug])
    assert_queries_do_not_grow(logged_in(world.leader), url, lambda n: _team_figures(world, n, "username"),
                               ceiling=32)


@covers("api-dashboard-team")
def test_team_dashboard_api_queries_do_not_grow(world, settings):
    settings.HANDOFF_DASHBOARD_CACHE_SECONDS = 0
    url = f"/api/v1/dashboards/team/{world.team.slug}/"
    assert_queries_do_not_grow(logged_in(world.leader), url, lambda n: _team_figures(world, n), ceiling=32)


@covers("dashboards:index")
def test_dashboards_index_queries_do_not_grow_with_teams(world):
    def grow(n):
        teams = [TeamFactory(leader=world.leader, name=mark("team")) for _ in range(n)]
        return [ProjectFactory(team=team).team.name for team in teams]

    assert_queries_do_not_grow(logged_in(world.leader), reverse("dashboards:index"), grow, ceiling=6)


def test_a_cached_dashboard_costs_a_handful_of_queries(world):
    client = logged_in(world.leader)
    url = reverse("dashboards:team", args=[world.team.slug])
    _team_figures(world, 3)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as cached:
        assert client.get(url).status_code == 200
    assert len(cached) <= 6, [q["sql"] for q in cached.captured_queries]
# --- what a deployment is worth (deployments.record_value) -----------------------------------------


@covers("deployments:detail")
def test_valued_deployment_page_queries_do_not_grow_with_business_observations(world):
    """The page as the team's leader sees it once a product manager recorded the value: the Value
    panel with who set it, the form, and the business metric under its name."""
    from handoff.deployments import services
    from tests.factories import MetricObservationFactory

    deployment = _deployment(world)
    manager = person(world.project, Role.PRODUCT_MANAGER)
    name = mark("Revenue")
    services.record_value(manager, deployment, monthly_value="12500", monthly_cost="1800",
                          business_metric_name=name)

    def grow(n):
        values = []
        for _ in range(n):
            value = 1000.0 + next(_serial)
            MetricObservationFactory(deployment=deployment, metric="business", value=value)
            values.append(str(value))
        return [*values, name, manager.username.capitalize()]

    url = reverse("deployments:detail", args=[deployment.pk])
    assert_queries_do_not_grow(logged_in(world.leader), url, grow, ceiling=DEPLOYMENT_PAGE)
# --- the home page of each role (dashboards/home.py): every section grows at once ---------------------


def _home_grow_of_a_scientist(scientist):
    from tests.factories import ContractFactory

    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(scientist)
            waiting = handover_in(project, owner=scientist, state=HandoverState.CHANGES_REQUESTED)
            draft = handover_in(project, owner=scientist)
            contract = ContractFactory(project=project, title=mark("Contract"))
            incident = IncidentFactory(project=project, handover=waiting, title=mark("Incident"))
            shown += [project.name, waiting.model.name, draft.model.name, contract.title, incident.title]
        return shown

    return grow


@covers("home")
def test_home_of_a_data_scientist_queries_do_not_grow_with_their_handovers_contracts_and_incidents(world):
    # Session, user, the roles (shared with the navigation), four sections, projects and their roles.
    assert_queries_do_not_grow(logged_in(world.scientist), reverse("home"),
                               _home_grow_of_a_scientist(world.scientist), ceiling=HOME_SCIENTIST)


@covers("home")
def test_home_of_an_engineer_queries_do_not_grow_with_the_review_and_triage_queues(world):
    from tests.factories import ContractFactory

    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.engineer, Role.ML_ENGINEER)
            waiting = handover_in(project, state=HandoverState.AWAITING_REVIEW)
            contract = ContractFactory(project=project, title=mark("Contract"))
            incident = IncidentFactory(project=project, title=mark("Incident"))
            shown += [project.name, waiting.model.name, contract.title, incident.title]
        return shown

    assert_queries_do_not_grow(logged_in(world.engineer), reverse("home"), grow, ceiling=HOME_ENGINEER)


@covers("home")
def test_home_of_a_leader_queries_do_not_grow_with_escalations_and_teams(world, settings):
    settings.HANDOFF_DASHBOARD_CACHE_SECONDS = 0  # measure the teams' figures, not the cache
    def grow(n):
        shown = []
        for _ in range(n):
            project = ProjectFactory(team=world.team, name=mark("Project"), slug=mark("project"))
            escalated = IncidentFactory(project=project, title=mark("Incident"), escalated_at=timezone.now())
            handover_in(project, state=HandoverState.AWAITING_REVIEW)  # counted on the team's row
            managed = project_of_mine(world.leader, Role.MANAGER)  # another team's figures to see
            shown += [project.name, escalated.title, managed.name, managed.team.name]
        return shown

    assert_queries_do_not_grow(logged_in(world.leader), reverse("home"), grow, ceiling=HOME_LEADER)


# What each needs today, with two queries of headroom.
HOME_SCIENTIST, HOME_ENGINEER, HOME_LEADER = 11, 10, 13
# --- lists whose rows span many projects or people (found at volume, issue 16) ---------------------


@covers("incidents:triage", "api-incident-list")
def test_triage_queue_queries_do_not_grow_with_the_projects_its_rows_span(world):
    """Each row asks what the viewer may do there: their roles on the page's projects are read at once."""
    def grow(n):
        titles = []
        for _ in range(n):
            project = project_of_mine(world.engineer, Role.ML_ENGINEER)
            titles.append(IncidentFactory(project=project, title=mark("Scores drift")).title)
        return titles

    assert_queries_do_not_grow(logged_in(world.engineer), reverse("incidents:triage"), grow, ceiling=10)
    assert_queries_do_not_grow(logged_in(world.engineer), "/api/v1/incidents/", grow, ceiling=8)


@covers("api-validation-run-list")
def test_api_validation_run_list_queries_do_not_grow_with_the_people_who_asked(world):
    def grow(n):
        shown = []
        for _ in range(n):
            project = project_of_mine(world.scientist)
            handover = handover_in(project, revisions=1)
            asker = person(project)
            ValidationRunFactory(revision=handover.revisions.get(), number=1, requested_by=asker)
            shown.append(f'"requested_by":"{asker.username}"')
        return shown

    assert_queries_do_not_grow(logged_in(world.scientist), "/api/v1/validation-runs/", grow, ceiling=6)


# --- accounts: API tokens -----------------------------------------------------------------------

def _api_tokens(user, n):
    from tests.factories import ApiTokenFactory

    return [ApiTokenFactory(user=user, name=mark("token")).name for _ in range(n)]


@covers("api_token")
def test_api_token_page_queries_do_not_grow_with_my_tokens(world):
    assert_queries_do_not_grow(logged_in(world.scientist), reverse("api_token"),
                               lambda n: _api_tokens(world.scientist, n), ceiling=5)


@covers("revoke_api_token")
def test_revoke_api_token_page_queries_do_not_grow_with_my_tokens(world):
    from tests.factories import ApiTokenFactory

    url = reverse("revoke_api_token", args=[ApiTokenFactory(user=world.scientist).pk])
    assert_queries_do_not_grow(logged_in(world.scientist), url, lambda n: _api_tokens(world.scientist, n),
                               ceiling=5, shown=False)


@covers("api-token-mine-list", "api-token-mine-detail")
def test_api_tokens_queries_do_not_grow_with_my_tokens(world):
    from tests.factories import ApiTokenFactory

    client = logged_in(world.scientist)
    grow = lambda n: _api_tokens(world.scientist, n)  # noqa: E731
    assert_queries_do_not_grow(client, "/api/v1/auth/tokens/", grow, ceiling=5)
    token = ApiTokenFactory(user=world.scientist)
    assert_queries_do_not_grow(client, f"/api/v1/auth/tokens/{token.pk}/", grow, ceiling=5, shown=False)
