"""Incident figures for the dashboards: times to acknowledge and resolve,
MTTA and MTTR per project and per team over [start, end), incidents per
deployment; computed in the database (PostgreSQL and SQLite), in a constant
number of queries, and only over what the asker may see."""

from datetime import UTC, datetime, timedelta

import pytest

from handoff.incidents import figures
from handoff.incidents.models import Incident, Severity
from handoff.teams.models import Role
from tests.factories import IncidentFactory, ProjectFactory, member

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


def incident(project, opened=START + timedelta(days=1), acknowledged=None, resolved=None, **kwargs):
    return IncidentFactory(project=project, opened_at=opened,
                           acknowledged_at=opened + acknowledged if acknowledged is not None else None,
                           resolved_at=opened + resolved if resolved is not None else None, **kwargs)


@pytest.fixture
def leader(project):
    return project.team.leader


def test_an_incidents_times_are_measured_from_its_opening(project):
    done = incident(project, acknowledged=10 * MIN, resolved=90 * MIN)
    waiting = incident(project)
    assert (figures.time_to_acknowledge(done), figures.time_to_resolve(done)) == (10 * MIN, 90 * MIN)
    assert (figures.time_to_acknowledge(waiting), figures.time_to_resolve(waiting)) == (None, None)
    annotated = figures.with_times(project.incidents.order_by("id"))
    assert [(i.to_acknowledge, i.to_resolve) for i in annotated] == [(10 * MIN, 90 * MIN), (None, None)]


def test_mtta_and_mttr_are_means_over_the_incidents_that_have_them(project, engineer):
    incident(project, acknowledged=10 * MIN, resolved=60 * MIN)
    incident(project, acknowledged=20 * MIN, resolved=180 * MIN)
    incident(project, acknowledged=30 * MIN)  # not resolved yet: not in the MTTR
    incident(project)  # waiting: in neither
    assert figures.mean_times(engineer, START, END) == figures.MeanTimes(4, 20 * MIN, 120 * MIN)


def test_the_period_includes_its_start_and_excludes_its_end(project, engineer):
    incident(project, opened=START, acknowledged=10 * MIN)
    incident(project, opened=END, acknowledged=50 * MIN)
    incident(project, opened=START - timedelta(seconds=1), acknowledged=70 * MIN)
    assert figures.mean_times(engineer, START, END) == figures.MeanTimes(1, 10 * MIN, None)


def test_no_incidents_give_no_mean(project, engineer):
    assert figures.mean_times(engineer, START, END) == figures.MeanTimes(0, None, None)


def test_figures_per_project_and_per_team(project, leader):
    sibling = ProjectFactory(team=project.team)
    quiet = ProjectFactory(team=project.team)
    incident(project, acknowledged=10 * MIN, resolved=100 * MIN)
    incident(sibling, acknowledged=30 * MIN)
    by_project = figures.mean_times_by_project(leader, START, END)
    assert by_project == {project.pk: figures.MeanTimes(1, 10 * MIN, 100 * MIN),
                          sibling.pk: figures.MeanTimes(1, 30 * MIN, None), quiet.pk: figures.MeanTimes()}
    assert figures.mean_times_by_team(leader, START, END) == {
        project.team.pk: figures.MeanTimes(2, 20 * MIN, 100 * MIN)}


def test_nobody_sees_another_teams_figures(project, engineer):
    other = ProjectFactory()
    incident(project, acknowledged=10 * MIN)
    incident(other, acknowledged=99 * MIN, severity=Severity.SEV1)
    assert figures.mean_times(engineer, START, END) == figures.MeanTimes(1, 10 * MIN, None)
    assert set(figures.mean_times_by_project(engineer, START, END)) == {project.pk}
    assert set(figures.mean_times_by_team(engineer, START, END)) == {project.team.pk}
    assert figures.mean_times(other.team.leader, START, END).mtta == 99 * MIN
    outsider = member(ProjectFactory(), Role.ML_ENGINEER)
    assert figures.mean_times(outsider, START, END) == figures.MeanTimes()
    # A queryset handed in is scoped too.
    theirs = Incident.objects.filter(project=other)
    assert figures.mean_times(engineer, START, END, incidents=theirs) == figures.MeanTimes()


def test_incidents_are_counted_per_deployment_by_severity(deployment, engineer, project):
    for severity in (Severity.SEV1, Severity.SEV2, Severity.SEV2):
        incident(project, deployment=deployment, severity=severity)
    incident(project, deployment=deployment, opened=END)  # next period
    incident(project)  # opened by hand, on no deployment
    assert figures.incidents_per_deployment(engineer, START, END) == {
        deployment.pk: {"total": 3, "sev1": 1, "sev2": 2, "sev3": 0, "sev4": 0}}
    assert figures.incidents_per_deployment(member(ProjectFactory(), Role.ML_ENGINEER), START, END) == {}


@pytest.mark.parametrize("count", [5, 50])
def test_figures_cost_the_same_queries_for_5_or_50_incidents(project, leader, deployment,
                                                              django_assert_num_queries, count):
    for n in range(count):
        incident(ProjectFactory(team=project.team) if n % 5 == 0 else project, deployment=deployment,
                 acknowledged=n * MIN, resolved=2 * n * MIN, severity=list(Severity)[n % 4])
    with django_assert_num_queries(1):
        figures.mean_times(leader, START, END)
    with django_assert_num_queries(2):
        figures.mean_times_by_project(leader, START, END)
    with django_assert_num_queries(2):
        figures.mean_times_by_team(leader, START, END)
    with django_assert_num_queries(1):
        figures.incidents_per_deployment(leader, START, END)
    with django_assert_num_queries(1):
        list(figures.with_times(project.incidents.all()))
