"""Each dashboard figure on hand-built data whose answer is worked out here by hand.

Every test builds its rows at fixed times inside (and, to be left out, outside)
a 90-day period ending 30 June 2026, plus rows of a project outside the scope,
and states the answer as a person would compute it."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from handoff.contracts.models import Candidate, Contract, ContractState
from handoff.dashboards import figures
from handoff.dashboards.figures import Period, Spread
from handoff.deployments.models import DeploymentStatus, Environment
from handoff.handovers.models import HandoverState, Review, ReviewDecision, Revision
from handoff.incidents.models import IncidentStatus, Severity
from handoff.teams.models import Project, Role
from handoff.validation.models import CheckStatus, RunState, ValidationRun
from tests.factories import (
    CheckResultFactory,
    DeploymentFactory,
    HandoverFactory,
    IncidentFactory,
    ModelFactory,
    ProjectFactory,
    ReviewFactory,
    RevisionFactory,
    ValidationRunFactory,
    accepted_handover,
    member,
)

pytestmark = pytest.mark.django_db

PERIOD = Period.last(90, today=date(2026, 6, 30))  # [2 April 2026, 1 July 2026)
HOUR = timedelta(hours=1)


def at(month, day, hour=12):
    return timezone.make_aware(datetime(2026, month, day, hour))


@pytest.fixture
def project():
    return ProjectFactory()


@pytest.fixture
def elsewhere():
    """A project outside the scope: whatever happens there counts for nothing."""
    return ProjectFactory()


def scope(*projects):
    return Project.objects.filter(pk__in=[p.pk for p in projects]).values("pk")


def handover(project, *, submitted=None, state=HandoverState.AWAITING_REVIEW, owner=None, **kwargs):
    """A handover whose revision 1 was submitted at ``submitted``."""
    model = ModelFactory(project=project, **({"owner": owner} if owner else {}))
    h = HandoverFactory(model=model, state=state, **kwargs)
    RevisionFactory(handover=h, number=1, submitted_at=submitted, submitted_by=h.owner if submitted else None)
    return h


def revision(h, number=1):
    return Revision.objects.get(handover=h, number=number)


def review(h, when, decision=ReviewDecision.REQUEST_CHANGES, number=1):
    r = ReviewFactory(revision=revision(h, number), decision=decision)
    Review.objects.filter(pk=r.pk).update(created_at=when)
    return r


def accepted(project, submitted, lead):
    """A handover submitted at ``submitted`` and accepted ``lead`` later."""
    h = handover(project, submitted=submitted, state=HandoverState.ACCEPTED)
    review(h, submitted + lead, ReviewDecision.ACCEPT)
    return h


def test_the_period_is_the_last_days_up_to_the_end_of_today_cut_into_mondays():
    assert PERIOD.start == at(4, 2, 0) and PERIOD.end == at(7, 1, 0)
    weeks = PERIOD.weeks()
    assert weeks[0] == date(2026, 3, 30) and weeks[-1] == date(2026, 6, 29) and len(weeks) == 14


def test_lead_time_is_the_nearest_rank_median_and_p90_of_handovers_accepted_in_the_period(project, elsewhere):
    # Five accepted in the period: 1 h, 2 h, 3 h, 10 h, 20 h. Median: rank ceil(2.5) = 3 -> 3 h;
    # p90: rank ceil(4.5) = 5 -> 20 h.
    for day, hours in ((3, 1), (5, 20), (10, 3), (20, 10), (27, 2)):
        accepted(project, at(5, day), hours * HOUR)
    accepted(project, at(3, 1), 100 * HOUR)  # accepted before the period
    accepted(elsewhere, at(5, 4), 500 * HOUR)  # outside the scope
    handover(project, submitted=at(5, 6))  # not accepted yet

    assert figures.lead_time(scope(project), PERIOD) == Spread(5, 3 * HOUR, 20 * HOUR)


def test_lead_time_counts_from_the_first_submission_not_the_revision_accepted(project):
    # Submitted 1 May, changes requested, revision 2 submitted 3 May, accepted 4 May noon: 3 days.
    h = handover(project, submitted=at(5, 1), state=HandoverState.ACCEPTED)
    review(h, at(5, 2))
    RevisionFactory(handover=h, number=2, submitted_at=at(5, 3), submitted_by=h.owner)
    review(h, at(5, 4), ReviewDecision.ACCEPT, number=2)

    assert figures.lead_time(scope(project), PERIOD) == Spread(1, timedelta(days=3), timedelta(days=3))


def test_weekly_lead_times_group_acceptances_by_the_monday_of_their_week(project):
    # Week of 4 May: 1 h and 5 h -> median rank 1 = 1 h, p90 rank 2 = 5 h. Week of 11 May: 2 h.
    accepted(project, at(5, 4), HOUR)
    accepted(project, at(5, 6), 5 * HOUR)
    accepted(project, at(5, 12), 2 * HOUR)

    weekly = {key.date(): spread for key, spread in
              figures.lead_times(scope(project), PERIOD, by="week").items()}
    assert weekly == {date(2026, 5, 4): Spread(2, HOUR, 5 * HOUR),
                      date(2026, 5, 11): Spread(1, 2 * HOUR, 2 * HOUR)}


def test_review_wait_is_from_a_revisions_submission_to_its_review(project, elsewhere):
    # Revision 1 submitted 4 May 12:00, reviewed 4 h later; revision 2 submitted 5 May, reviewed 1 h later.
    a = handover(project, submitted=at(5, 4))
    review(a, at(5, 4, 16))
    RevisionFactory(handover=a, number=2, submitted_at=at(5, 5), submitted_by=a.owner)
    review(a, at(5, 5, 13), ReviewDecision.ACCEPT, number=2)
    # 2 h, and 30 h.
    review(handover(project, submitted=at(5, 10)), at(5, 10, 14))
    review(handover(project, submitted=at(5, 20)), at(5, 21, 18))
    review(handover(project, submitted=at(3, 1)), at(3, 2))  # reviewed before the period
    review(handover(elsewhere, submitted=at(5, 4)), at(5, 30))
    handover(project, submitted=at(5, 25))  # still waiting: not a finished wait

    # 1 h, 2 h, 4 h, 30 h: median rank 2 = 2 h, p90 rank ceil(3.6) = 4 = 30 h.
    assert figures.review_wait(scope(project), PERIOD) == Spread(4, 2 * HOUR, 30 * HOUR)


def _run(h, state, finished, *, number=1, revision_number=1):
    run = ValidationRunFactory(revision=revision(h, revision_number), number=number, state=state)
    ValidationRun.objects.filter(pk=run.pk).update(finished_at=finished)
    return run


def test_first_pass_rate_is_the_share_of_handovers_whose_first_run_passed(project, elsewhere):
    _run(handover(project, submitted=at(5, 1)), RunState.PASSED, at(5, 1))
    _run(handover(project, submitted=at(5, 2)), RunState.PASSED, at(5, 2))
    _run(handover(project, submitted=at(5, 3)), RunState.FAILED, at(5, 3))
    errored = handover(project, submitted=at(5, 4))
    _run(errored, RunState.ERROR, at(5, 4))
    _run(errored, RunState.PASSED, at(5, 5), number=2)  # a second run is not the first pass
    revised = handover(project, submitted=at(5, 6))
    _run(revised, RunState.FAILED, at(5, 6))
    RevisionFactory(handover=revised, number=2, submitted_at=at(5, 7))
    _run(revised, RunState.PASSED, at(5, 7), revision_number=2)  # nor is revision 2's run
    _run(handover(project, submitted=at(3, 1)), RunState.FAILED, at(3, 1))  # before the period
    _run(handover(elsewhere, submitted=at(5, 1)), RunState.FAILED, at(5, 1))
    running = ValidationRunFactory(revision=revision(handover(project, submitted=at(5, 8))), number=1,
                                   state=RunState.RUNNING)
    assert running.finished_at is None

    # Five first runs finished in the period, two passed.
    passed_finished = figures.first_pass(scope(project), PERIOD)[None]
    assert passed_finished == (2, 5) and figures.rate(passed_finished) == 0.4
    nothing = figures.first_pass(scope(elsewhere), Period.last(7, today=date(2026, 1, 1)))
    assert figures.rate(nothing.get(None)) is None


def revised(h, number, when):
    RevisionFactory(handover=h, number=number, submitted_at=when, submitted_by=h.owner)


def test_change_requests_per_accepted_handover(project, elsewhere):
    two = handover(project, submitted=at(5, 1), state=HandoverState.ACCEPTED)
    review(two, at(5, 2))
    revised(two, 2, at(5, 2))
    review(two, at(5, 3), number=2)
    revised(two, 3, at(5, 3))
    review(two, at(5, 4), ReviewDecision.ACCEPT, number=3)
    one = handover(project, submitted=at(3, 1), state=HandoverState.ACCEPTED)
    review(one, at(3, 2))  # asked before the period, accepted inside it: still counts
    revised(one, 2, at(3, 3))
    review(one, at(5, 5), ReviewDecision.ACCEPT, number=2)
    accepted(project, at(5, 6), HOUR)  # none
    pending = handover(project, submitted=at(5, 7))
    review(pending, at(5, 8))  # not accepted: not in the figure
    other = handover(elsewhere, submitted=at(5, 1), state=HandoverState.ACCEPTED)
    review(other, at(5, 2))
    revised(other, 2, at(5, 2))
    review(other, at(5, 3), ReviewDecision.ACCEPT, number=2)

    # 2 + 1 + 0 change requests over 3 accepted handovers.
    assert figures.change_requests(scope(project), PERIOD)[None] == (3, 3)


def test_validation_failures_by_check(project, elsewhere):
    for when, key, status in (
        (at(5, 1), "metric.accuracy", CheckStatus.FAIL),
        (at(5, 2), "metric.accuracy", CheckStatus.FAIL),
        (at(5, 3), "latency.p95", CheckStatus.FAIL),
        (at(5, 4), "latency.p95", CheckStatus.PASS),
        (at(3, 1), "latency.p95", CheckStatus.FAIL),  # before the period
    ):
        run = _run(handover(project, submitted=when), RunState.FAILED, when)
        CheckResultFactory(run=run, key=key, status=status)
    CheckResultFactory(run=_run(handover(elsewhere, submitted=at(5, 1)), RunState.FAILED, at(5, 1)),
                       key="latency.p95", status=CheckStatus.FAIL)

    assert figures.failures_by_check(scope(project), PERIOD) == [("metric.accuracy", 2), ("latency.p95", 1)]


def test_candidates_per_contract_counts_contracts_whose_selection_falls_in_the_period(project, elsewhere):
    author = member(project, Role.ML_ENGINEER)

    def contract_with(n, accepted_on=None, where=project):
        contract = Contract.objects.create(project=where, title="Fraud", created_by=author,
                                           state=ContractState.AGREED)
        for i in range(n):
            h = handover(where, submitted=at(4, 10), is_candidate=True)
            Candidate.objects.create(contract=contract, handover=h)
            if i == 0 and accepted_on:
                review(h, accepted_on, ReviewDecision.ACCEPT)
        return contract

    contract_with(3, accepted_on=at(5, 1))
    contract_with(1, accepted_on=at(6, 1))
    contract_with(2)  # nothing selected yet
    contract_with(4, accepted_on=at(3, 1))  # selected before the period
    contract_with(5, accepted_on=at(5, 1), where=elsewhere)

    # Two contracts selected in the period, with 3 + 1 candidates.
    assert figures.candidates_per_contract(scope(project), PERIOD) == (4, 2)


def test_production_counts_models_serving_at_the_periods_end_with_their_value_and_cost(project, elsewhere):
    def deployed(model=None, **kwargs):
        h, _ = accepted_handover(project=project, model=model)
        return DeploymentFactory(handover=h, deployed_at=at(4, 5), **kwargs)

    first = deployed(monthly_value=Decimal("1000.00"), monthly_cost=Decimal("200.00"))
    deployed(model=first.handover.model, monthly_value=Decimal("500.00"), traffic_share=10)  # same model
    deployed(monthly_cost=Decimal("50.00"))  # no value recorded yet
    deployed(environment=Environment.STAGING, monthly_value=Decimal("9999"))
    deployed(status=DeploymentStatus.RETIRED, ended_at=at(6, 1), monthly_value=Decimal("9999"))
    deployed(status=DeploymentStatus.RETIRED, ended_at=at(7, 2), monthly_value=Decimal("7.00"))  # ended later
    h, _ = accepted_handover(project=elsewhere)
    DeploymentFactory(handover=h, deployed_at=at(4, 5), monthly_value=Decimal("9999"))

    # Models: first's, the third's, the one retired after the period = 3.
    assert figures.production(scope(project), PERIOD)[None] == {
        "models": 3, "value": Decimal("1507.00"), "cost": Decimal("250.00"), "valued": 3}


def test_value_at_risk_is_the_value_of_active_deployments_with_an_incident_being_worked(project):
    def deployed(value):
        h, _ = accepted_handover(project=project)
        return DeploymentFactory(handover=h, monthly_value=Decimal(value))

    struck, twice, fine, resolved = deployed("1000"), deployed("300"), deployed("50"), deployed("70")
    IncidentFactory(project=project, deployment=struck, status=IncidentStatus.INVESTIGATING)
    IncidentFactory(project=project, deployment=twice, severity=Severity.SEV1)
    IncidentFactory(project=project, deployment=twice, status=IncidentStatus.MITIGATED)  # counted once
    IncidentFactory(project=project, deployment=resolved, status=IncidentStatus.RESOLVED)
    IncidentFactory(project=project)  # not tied to a deployment
    assert fine

    assert figures.value_at_risk(scope(project)) == {None: Decimal("1300.00")}


def test_open_incidents_by_severity_and_incidents_opened_in_the_period(project, elsewhere):
    IncidentFactory(project=project, severity=Severity.SEV1, opened_at=at(5, 1))
    IncidentFactory(project=project, severity=Severity.SEV2, opened_at=at(5, 2),
                    status=IncidentStatus.ACKNOWLEDGED)
    IncidentFactory(project=project, severity=Severity.SEV2, opened_at=at(3, 1))  # open, opened before
    IncidentFactory(project=project, severity=Severity.SEV3, opened_at=at(5, 3),
                    status=IncidentStatus.RESOLVED)
    IncidentFactory(project=project, severity=Severity.SEV4, opened_at=at(5, 4),
                    status=IncidentStatus.CLOSED)
    IncidentFactory(project=elsewhere, severity=Severity.SEV1, opened_at=at(5, 1))

    assert figures.open_incidents(scope(project)) == {
        None: {"total": 3, "sev1": 1, "sev2": 2, "sev3": 0, "sev4": 0}}
    assert figures.incidents_opened(scope(project), PERIOD) == {
        None: {"total": 4, "sev1": 1, "sev2": 1, "sev3": 1, "sev4": 1}}


def test_open_work_per_person(project, elsewhere):
    scientist, engineer = member(project, Role.DATA_SCIENTIST), member(project, Role.ML_ENGINEER)
    handover(project, owner=scientist, state=HandoverState.DRAFT)
    handover(project, owner=scientist, state=HandoverState.CHANGES_REQUESTED, submitted=at(5, 1))
    handover(project, owner=scientist, state=HandoverState.VALIDATION_FAILED, submitted=at(5, 1))
    handover(project, owner=scientist, state=HandoverState.AWAITING_REVIEW, submitted=at(5, 1),
             reviewer=engineer)
    handover(project, owner=scientist, state=HandoverState.ACCEPTED, submitted=at(5, 1))
    IncidentFactory(project=project, assignee=engineer)
    IncidentFactory(project=project, assignee=engineer, status=IncidentStatus.RESOLVED)
    handover(elsewhere, owner=scientist, state=HandoverState.DRAFT)

    assert figures.open_work(scope(project)) == {
        scientist.pk: {"drafting": 3, "reviewing": 0, "incidents": 0},
        engineer.pk: {"drafting": 0, "reviewing": 1, "incidents": 1},
    }


def test_figures_grouped_by_project_keep_each_project_apart(project, elsewhere):
    accepted(project, at(5, 4), HOUR)
    accepted(elsewhere, at(5, 4), 3 * HOUR)
    accepted(elsewhere, at(5, 5), 5 * HOUR)

    by_project = figures.lead_times(scope(project, elsewhere), PERIOD, by="project")
    assert by_project == {project.pk: Spread(1, HOUR, HOUR), elsewhere.pk: Spread(2, 3 * HOUR, 5 * HOUR)}


def test_the_dashboards_ratios_and_means_divide_the_figures_they_name(project, elsewhere):
    """The read model the page, CSV and API share: incidents per deployed model, change
    requests per accepted handover, candidates per contract, MTTA and MTTR in hours."""
    from handoff.dashboards import selectors
    from handoff.teams.models import Team

    leader = project.team.leader
    sent_back = handover(project, submitted=at(4, 30), state=HandoverState.ACCEPTED)
    review(sent_back, at(4, 30, 14))  # revision 1: changes requested
    revised(sent_back, 2, at(5, 1))
    review(sent_back, at(5, 2), ReviewDecision.ACCEPT, number=2)
    accepted(project, at(5, 3), HOUR)
    for _ in range(2):  # two models deployed at the period's end (accepted today: not in the period)
        h, _ = accepted_handover(project=project)
        DeploymentFactory(handover=h, deployed_at=at(4, 5))
    # Three incidents opened in the period, acknowledged after 1, 2 and 3 h; two resolved after 4 and 8 h.
    for hours, resolved in ((1, 4), (2, 8), (3, None)):
        IncidentFactory(project=project, opened_at=at(5, 10), acknowledged_at=at(5, 10) + hours * HOUR,
                        resolved_at=at(5, 10) + resolved * HOUR if resolved else None,
                        status=IncidentStatus.RESOLVED if resolved else IncidentStatus.ACKNOWLEDGED)
    IncidentFactory(project=elsewhere, opened_at=at(5, 10))

    scope = selectors.Scope(Team.objects.get(pk=project.team_id), [project], None)
    data = selectors.compute(leader, scope, PERIOD)

    assert data["incidents"]["opened"]["total"] == 3
    assert data["incidents"]["per_deployed_model"] == 1.5  # 3 incidents over 2 models
    assert data["incidents"]["mtta_hours"] == 2.0  # (1 + 2 + 3) / 3
    assert data["incidents"]["mttr_hours"] == 6.0  # (4 + 8) / 2: the open one has no time to resolve yet
    # Two handovers accepted in the period, one change request between them.
    assert data["handovers"]["accepted"] == 2
    assert data["handovers"]["change_requests"] == 1
    assert data["handovers"]["change_requests_per_accepted"] == 0.5
    assert data["production"]["deployed_models"] == 2
