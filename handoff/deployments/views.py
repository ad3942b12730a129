"""Deployment pages: thin. Each finds its object in the viewer's reach (404
otherwise), parses a form, calls a service and redirects or renders; a
refusal a person can act on is shown on the form, with nothing changed."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handoff import access
from handoff.access import Action
from handoff.core.errors import DomainError, Forbidden, NotFound
from handoff.handovers import selectors as handover_selectors
from handoff.teams import selectors as team_selectors

from . import selectors, services
from .forms import DeployForm, RollbackForm, TokenForm, ValueForm
from .models import ProductionMetric

OBSERVATIONS_PER_PAGE = 50


def _refused_on(form, error):
    """Put a service's refusal on its field (or the form), unless it is a 404 or 403 to raise."""
    if isinstance(error, (NotFound, Forbidden)):
        raise error
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _handover(request, pk):
    handover = handover_selectors.visible_handovers(request.user).filter(pk=pk).first()
    if handover is None:
        raise NotFound("Not found.")
    return handover


@login_required
@require_http_methods(["GET", "POST"])
def deploy(request, pk):
    """Record a deployment of a handover (its ML engineers). The handover page
    holds the same form; this page shows it again with what was refused."""
    handover = _handover(request, pk)
    access.require(request.user, Action.DEPLOY, handover)
    form = DeployForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deployment = services.deploy(request.user, handover, environment=data["environment"],
                                         traffic_share=data["traffic_share"], deployed_at=data["deployed_at"],
                                         notes=data["notes"])
        except DomainError as error:
            _refused_on(form, error)
        else:
            messages.success(request, f"Recorded: {handover} serves {deployment.traffic_share} % of "
                                      f"{deployment.get_environment_display().lower()} traffic.")
            return redirect(f"{handover.get_absolute_url()}#deployments")
    status = 400 if request.method == "POST" else 200
    return render(request, "deployments/deploy.html", {"handover": handover, "form": form}, status=status)


def _end(request, pk, end, done):
    deployment = selectors.deployment_detail(request.user, pk)
    access.require(request.user, Action.DEPLOY, deployment)
    form = RollbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]))
    else:
        end(deployment, form.cleaned_data["reason"])
        messages.success(request, f"{deployment} is {done}.")
    if request.POST.get("next") == "detail":
        return redirect(deployment)
    return redirect(f"{deployment.handover.get_absolute_url()}#deployments")


@login_required
@require_POST
def rollback(request, pk):
    return _end(request, pk, lambda d, why: services.rollback(request.user, d, reason=why), "rolled back")


@login_required
@require_POST
def retire(request, pk):
    return _end(request, pk, lambda d, reason: services.retire(request.user, d), "retired")


@login_required
@require_POST
def retire_handover(request, pk):
    """Retire a handover none of whose deployments is active (else a message naming them)."""
    handover = _handover(request, pk)
    services.retire_handover(request.user, handover)
    messages.success(request, f"{handover} is retired.")
    return redirect(f"{handover.get_absolute_url()}#deployments")


@login_required
@require_GET
def deployment_detail(request, pk):
    """A deployment: its handover and signed revision, environment, status, and
    the observations monitoring posted (latest per metric, then every one, paged)."""
    return _detail_page(request, selectors.deployment_detail(request.user, pk))


def _detail_page(request, deployment, *, value_form=None, status=200):
    observations = Paginator(selectors.observations_of(deployment), OBSERVATIONS_PER_PAGE)
    page = observations.get_page(request.GET.get("page"))
    latest = selectors.latest_per_metric(deployment)
    may_record_value = access.can(request.user, Action.RECORD_VALUE, deployment)
    return render(request, "deployments/detail.html", {
        "deployment": deployment,
        "latest": latest,
        "business": next((o for o in latest if o.metric == ProductionMetric.BUSINESS), None),
        "page_obj": page,
        "may_end": deployment.status == "active" and access.can(request.user, Action.DEPLOY, deployment),
        "rollback_form": RollbackForm(),
        "may_record_value": may_record_value,
        "value_form": value_form or (ValueForm.of(deployment) if may_record_value else None),
        "currency": settings.HANDOFF_CURRENCY,
    }, status=status)


@login_required
@require_POST
def record_value(request, pk):
    """Record a deployment's monthly value, cost and business metric's name (its
    product manager or the team's leader); a refusal is shown on the deployment
    page's form, with nothing changed."""
    deployment = selectors.deployment_detail(request.user, pk)
    access.require(request.user, Action.RECORD_VALUE, deployment)
    form = ValueForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_value(request.user, deployment, monthly_value=data["monthly_value"],
                                  monthly_cost=data["monthly_cost"],
                                  business_metric_name=data["business_metric_name"])
        except DomainError as error:
            _refused_on(form, error)
        else:
            messages.success(request, f"Recorded what {deployment} is worth.")
            return redirect(f"{deployment.get_absolute_url()}#value")
    return _detail_page(request, deployment, value_form=form, status=400)


# --- ingestion tokens: how the project's monitoring posts metrics (its ML engineers) ---------------


def _tokens_project(request, slug):
    project = team_selectors.get_visible_project(request.user, slug)
    access.require(request.user, Action.MANAGE_INGESTION_TOKENS, project)
    return project


def _tokens_page(request, project, *, form=None, created=None, status=200):
    return render(request, "deployments/tokens.html", {
        "project": project,
        "tokens": selectors.project_tokens(project),
        "form": form or TokenForm(),
        "created": created,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def project_tokens(request, slug):
    """The project's ingestion tokens and the form for a new one; its secret is shown once, here."""
    project = _tokens_project(request, slug)
    if request.method != "POST":
        return _tokens_page(request, project)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = services.create_token(request.user, project, name=form.cleaned_data["name"])
        except DomainError as error:
            _refused_on(form, error)
        else:
            return _tokens_page(request, project, created={"token": token, "secret": secret}, status=201)
    return _tokens_page(request, project, form=form, status=400)


@login_required
@require_POST
def revoke_token(request, slug, pk):
    project = _tokens_project(request, slug)
    token = services.revoke_token(request.user, selectors.project_token(project, pk))
    messages.success(request, f"The token {token.name} ({token.prefix}…) is revoked: "
                              "what posts with it is refused from now on.")
    return redirect("deployments:tokens", slug=project.slug)
