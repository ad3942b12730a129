"""Read queries for contract pages and the API.

Every queryset is scoped with ``access.scope``: nothing outside the user's
projects is ever returned. ``comparison`` is the read model of the comparison
page and of ``GET /api/v1/contracts/{id}/comparison/``: plain data, no request
and no HTML, built in a constant number of queries.
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Prefetch, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
from django.utils.http import urlencode

from handoff import access
from handoff.access import Action, scope
from handoff.core.errors import NotFound
from handoff.handovers.markdown import mentioned_usernames, render_markdown
from handoff.handovers.models import LOWER_IS_BETTER, Metric
from handoff.validation.models import CheckResult, RunState, ValidationRun

from .models import (
    CONTRACT_TERMS,
    Candidate,
    Contract,
    ContractArtifact,
    ContractArtifactKind,
    ContractComment,
    ContractSignature,
)

# How each term reads on the contract page and in the diff.
TERM_LABELS = {
    "task_type": "Task type",
    "positive_label": "Positive class",
    "frameworks": "Accepted frameworks",
    "model_formats": "Accepted model formats",
    "latency_p95_ms": "p95 latency budget (ms)",
    "latency_batch_size": "Latency batch size",
    "peak_memory_mb": "Peak memory budget (MB)",
    "max_parameter_count": "Largest parameter count",
    "validation_description": "Validation set",
    "validation_row_count": "Validation rows",
    "fairness_slice_column": "Fairness slice column",
    "fairness_max_gap": "Largest allowed gap between slices",
    "fairness_metric": "Fairness metric",
    "intended_use": "Intended use",
    "limitations": "Limitations",
    "metric_tolerance": "Metric tolerance",
}


def visible_contracts(user):
    """Contracts of the user's projects, newest first, with how many candidates each has."""
    # Counted per row by a subquery, so only the page's contracts are counted
    # (Count over a join grouped every visible contract with its candidates first).
    candidates = (Candidate.objects.filter(contract=OuterRef("pk")).order_by().values("contract")
                  .annotate(count=Count("pk")).values("count"))
    contracts = Contract.objects.select_related("project", "created_by").annotate(
        candidate_count=Coalesce(Subquery(candidates), 0)
    )
    return scope(contracts, user).order_by("-created_at", "-id")


def contract_detail(user, pk):
    """One contract the user may see, with its requirements, files, signatures,
    comments and candidates prefetched; NotFound otherwise."""
    contracts = scope(Contract.objects.select_related("project__team", "created_by"), user).prefetch_related(
        "requirements",
        Prefetch("artifacts", queryset=ContractArtifact.objects.select_related("uploaded_by")),
        Prefetch("signatures", queryset=ContractSignature.objects.select_related("signer")),
        Prefetch("comments", queryset=ContractComment.objects.select_related("author")),
        Prefetch(
            "candidates",
            queryset=Candidate.objects.select_related("handover__model", "handover__owner").order_by(
                "filed_at", "id"
            ),
        ),
    )
    try:
        return contracts.get(pk=pk)
    except (Contract.DoesNotExist, ValueError, TypeError):
        raise NotFound("Not found.") from None


def contract_for(user, pk):
    """One contract the user may see (no prefetching); NotFound otherwise."""
    contract = scope(Contract.objects.select_related("project"), user).filter(pk=pk).first()
    if contract is None:
        raise NotFound("Not found.")
    return contract


def listed_artifacts(user, contract):
    """The contract's files this user may see: a blind contract's labels are
    not listed to anyone ``access.hides_labels`` holds blind."""
    hidden = access.hides_labels(user, contract)
    return [a for a in contract.artifacts.all() if not (hidden and a.kind == ContractArtifactKind.LABELS)]


def downloadable_artifact(user, contract_pk, artifact_pk):
    """A contract file the user may download; NotFound for outsiders and for
    a blind contract's labels to those held blind."""
    artifact = (
        scope(ContractArtifact.objects.select_related("contract__project"), user,
              project_field="contract__project")
        .filter(pk=artifact_pk, contract_id=contract_pk)
        .first()
    )
    if artifact is None or (
        artifact.kind == ContractArtifactKind.LABELS and access.hides_labels(user, artifact.contract)
    ):
        raise NotFound("Not found.")
    return artifact


def versions(contract):
    """Every version of the contract's series, oldest first."""
    return list(Contract.objects.filter(series=contract.series).order_by("version"))


def term_rows(contract):
    """(label, shown value) of every term but the Markdown ones, in page order."""
    rows = []
    for name in CONTRACT_TERMS:
        if name in ("intended_use", "limitations"):
            continue
        rows.append((TERM_LABELS[name], _shown(contract, name)))
    return rows


def _shown(contract, name):
    value = getattr(contract, name)
    if name in ("frameworks", "model_formats"):
        return value.replace(",", ", ") if value else "any"
    display = getattr(contract, f"get_{name}_display", None)
    if display and value:
        return display()
    return value


def diff(old, new, user):
    """What changed from ``old`` to ``new`` (two versions of one contract):
    the title, the blind flag, every term, every requirement and every file
    by sha256. -> list of {"section", "label", "old", "new", "changed"}"""
    rows = [
        _diff_row("Terms", "Title", old.title, new.title),
        _diff_row("Terms", "Labels held blind", _yes(old.labels_blind), _yes(new.labels_blind)),
    ]
    rows += [_diff_row("Terms", TERM_LABELS[name], _shown(old, name), _shown(new, name))
             for name in CONTRACT_TERMS]
    old_reqs = {r.metric: r for r in old.requirements.all()}
    new_reqs = {r.metric: r for r in new.requirements.all()}
    for metric in [m for m in Metric.values if m in old_reqs or m in new_reqs]:
        rows.append(_diff_row("Requirements", Metric(metric).label, _bounds(old_reqs.get(metric)),
                              _bounds(new_reqs.get(metric))))
    old_files, new_files = _files(user, old), _files(user, new)
    for kind, label in ContractArtifactKind.choices:
        if kind in old_files or kind in new_files:
            rows.append(_diff_row("Validation set", label, old_files.get(kind), new_files.get(kind)))
    return rows


def _files(user, contract):
    return {a.kind: a.sha256 for a in listed_artifacts(user, contract)}


def _yes(flag):
    return "yes" if flag else "no"


def _bounds(requirement):
    if requirement is None:
        return None
    parts = []
    if requirement.minimum is not None:
        parts.append(f"≥ {requirement.minimum:g}")
    if requirement.maximum is not None:
        parts.append(f"≤ {requirement.maximum:g}")
    return " and ".join(parts)


def _diff_row(section, label, old, new):
    old, new = (None if value in ("", None) else value for value in (old, new))
    return {"section": section, "label": label, "old": old, "new": new, "changed": old != new}


# --- the comparison --------------------------------------------------------------------------------

HIGHER, LOWER = "higher", "lower"
LATENCY, MEMORY, PARAMETERS, FORMAT = (
    "runtime.latency_p95_ms", "runtime.peak_memory_mb", "model.parameters", "model.format"
)


def comparison(contract, user, *, sort=None):
    """All candidates of ``contract`` side by side, requirement by requirement,
    from each candidate's latest validation run. Three queries whatever the
    number of candidates (candidates, their latest runs, those runs' checks);
    ``contract.requirements`` is read as prefetched if it was.

    ``user`` must be able to see the contract (the caller looked it up
    through ``access.scope``); the figures are aggregate, so a blind contract
    shows them to everyone. ``sort`` is a row key: columns are then ordered
    best first on that row (candidates without a figure last).

    Returns::

        {
          "contract": {"id", "title", "version", "state", "labels_blind"},
          "sort": "metric.accuracy" | None,      # the row key sorted on, if any
          "columns": [                          # one per candidate, filing order unless sorted
            {"handover_id", "model", "version_label", "owner", "state", "state_label",
             "run_id", "run_state", "verdict": "pass" | "fail" | None, "selected": bool},
          ],
          "rows": [                             # requirements, then latency, memory, parameters, format
            {"key": "metric.accuracy", "label": "Accuracy", "requirement": "≥ 0.95",
             "minimum", "maximum", "better": "higher" | "lower" | None, "unit": "" | "ms" | "MB",
             "cells": [                         # in the order of "columns"
               {"value": 0.959 | None, "text": "pass detail or format name",
                "status": "pass" | "fail" | "error" | "skipped" | None, "best": bool},
             ]},
          ],
        }
    """
    candidates = list(
        Candidate.objects.filter(contract=contract)
        .select_related("handover__model", "handover__owner")
        .order_by("filed_at", "id")
    )
    handover_ids = [c.handover_id for c in candidates]
    # The latest run of each candidate's latest revision, in one query: numbered per handover by a
    # window function (DISTINCT ON would do it on PostgreSQL only; the embedded default is SQLite).
    latest_first = Window(RowNumber(), partition_by=[F("revision__handover_id")],
                          order_by=[F("revision__number").desc(), F("number").desc()])
    runs = {
        run.revision.handover_id: run
        for run in ValidationRun.objects.filter(revision__handover_id__in=handover_ids)
        .select_related("revision").annotate(latest=latest_first).filter(latest=1)
    } if handover_ids else {}
    checks = {}
    if runs:
        for check in CheckResult.objects.filter(run_id__in=[r.pk for r in runs.values()]):
            checks[(check.run_id, check.key)] = check

    columns = []
    for candidate in candidates:
        handover = candidate.handover
        run = runs.get(handover.pk)
        finished = run is not None and run.state in (RunState.PASSED, RunState.FAILED, RunState.ERROR)
        columns.append({
            "handover_id": handover.pk,
            "model": handover.model.name,
            "version_label": handover.version_label,
            "owner": handover.owner.username,
            "state": handover.state,
            "state_label": handover.get_state_display(),
            "run_id": run.pk if run else None,
            "run_state": run.state if run else None,
            "verdict": (("pass" if run.state == RunState.PASSED else "fail") if finished else None),
            "selected": handover.state in ("accepted", "deployed", "retired"),
        })

    rows = [_row(spec, columns, runs, checks) for spec in _row_specs(contract)]
    if sort and any(row["key"] == sort for row in rows):
        columns, rows = _sorted(columns, rows, sort)
    else:
        sort = None
    return {
        "contract": {"id": contract.pk, "title": contract.title, "version": contract.version,
                     "state": contract.state, "labels_blind": contract.labels_blind},
        "sort": sort,
        "columns": columns,
        "rows": rows,
    }


def _row_specs(contract):
    specs = []
    for requirement in contract.requirements.all():
        specs.append({
            "key": f"metric.{requirement.metric}", "label": requirement.get_metric_display(),
            "minimum": requirement.minimum, "maximum": requirement.maximum,
            "better": LOWER if requirement.metric in LOWER_IS_BETTER else HIGHER, "unit": "",
        })
    specs.append({"key": LATENCY, "label": f"p95 latency at batch {contract.latency_batch_size}",
                  "minimum": None, "maximum": contract.latency_p95_ms, "better": LOWER, "unit": "ms"})
    specs.append({"key": MEMORY, "label": "Peak memory", "minimum": None, "maximum": contract.peak_memory_mb,
                  "better": LOWER, "unit": "MB"})
    specs.append({"key": PARAMETERS, "label": "Parameter count", "minimum": None,
                  "maximum": contract.max_parameter_count, "better": LOWER, "unit": ""})
    specs.append({"key": FORMAT, "label": "Model format", "minimum": None, "maximum": None, "better": None,
                  "unit": "", "formats": contract.format_list})
    return specs


def _requirement_text(spec):
    if spec["key"] == FORMAT:
        return ", ".join(spec["formats"]) if spec["formats"] else "any"
    parts = []
    unit = f" {spec['unit']}" if spec["unit"] else ""
    if spec["minimum"] is not None:
        parts.append(f"≥ {spec['minimum']:g}{unit}")
    if spec["maximum"] is not None:
        parts.append(f"≤ {spec['maximum']:g}{unit}")
    return " and ".join(parts) or "none"


def _row(spec, columns, runs, checks):
    cells = []
    for column in columns:
        check = checks.get((column["run_id"], spec["key"])) if column["run_id"] else None
        value = check.measured if check is not None else None
        text = ""
        if spec["key"] == FORMAT and check is not None:
            text = str((check.details or {}).get("format", ""))
        cells.append({"value": value, "text": text, "status": check.status if check else None,
                      "best": False})
    numbers = [cell["value"] for cell in cells if cell["value"] is not None]
    if spec["better"] and numbers:
        best = max(numbers) if spec["better"] == HIGHER else min(numbers)
        for cell in cells:
            cell["best"] = cell["value"] is not None and cell["value"] == best
    row = {key: spec[key] for key in ("key", "label", "minimum", "maximum", "better", "unit")}
    row["requirement"] = _requirement_text(spec)
    row["cells"] = cells
    return row


def _sorted(columns, rows, key):
    """Columns ordered best first on the row ``key``; candidates without a figure last."""
    row = next(r for r in rows if r["key"] == key)
    sign = -1 if row["better"] != LOWER else 1

    def rank(index):
        value = row["cells"][index]["value"]
        return (value is None, sign * value if value is not None else 0, index)

    order = sorted(range(len(columns)), key=rank)
    columns = [columns[i] for i in order]
    for r in rows:
        r["cells"] = [r["cells"][i] for i in order]
    return columns, rows


def sortable_keys(rows):
    """The row keys the comparison may be sorted on (those with a better direction)."""
    return [row["key"] for row in rows if row["better"]]


def discussion(contract):
    """The contract's comments, oldest first, each with its Markdown rendered
    (``comment.html``) as handover comments are: a mention of a member of
    the project links to their handovers there; any other stays text."""
    comments = list(contract.comments.all())
    names = {name for c in comments for name in mentioned_usernames(c.body)}
    members = {person.username for person in get_user_model().objects.filter(username__in=names)
               if access.can(person, Action.VIEW, contract)} if names else set()

    def mention_link(username):
        if username not in members:
            return None
        query = urlencode({"project": contract.project.slug, "owner": username})
        return f"{reverse('handovers:list')}?{query}"

    for comment in comments:
        comment.html = render_markdown(comment.body, mention_link=mention_link)
    return comments


# --- contracts waiting for a signature (the home page) ---


def awaiting_signature(user):
    """Proposed contracts of projects where ``user`` may sign that wait for
    them: they have not signed, and nobody has signed yet in the role they
    hold on the project (a second data scientist's signature agrees nothing).
    Oldest first."""
    from django.db.models import Exists, OuterRef, Q, Subquery

    from handoff.teams.models import RoleAssignment

    from .models import ContractState

    my_role = RoleAssignment.objects.filter(
        user=user, project=OuterRef("contract__project")).order_by().values("role")[:1]
    signed_for_my_side = ContractSignature.objects.filter(contract=OuterRef("pk")).filter(
        Q(signer=user) | Q(role=Subquery(my_role))
    )
    return (
        scope(Contract.objects.select_related("project"), user)
        .filter(state=ContractState.PROPOSED,
                project__in=access.projects_allowing(user, Action.SIGN_CONTRACT).values("pk"))
        .exclude(Exists(signed_for_my_side))
        .order_by("updated_at", "id")
    )
