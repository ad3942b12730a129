"""The model card of an accepted handover, built from what was signed and measured.

Not from what was claimed: the signed revision (``handovers.services.signed_revision``)
gives the terms both sides agreed to; the acceptance review gives who signed,
when, and the sha256 of every file as signed; the latest validation run of
that revision gives every figure (metrics, parameters, latency, memory, the
fairness gap per slice) as the workers measured it; for a candidate, its
contract gives the version and the signatures of both sides.

The card is a Markdown file in the Hugging Face model-card layout: YAML front
matter (with the measured metrics in ``model-index``), then the sections a
reader looks for. A contract that holds its labels blind keeps them blind
here, for every reader: the card gives the labels' sha256, never their file
name or a row.
"""

from dataclasses import dataclass, field

import yaml

from handoff.core.errors import Conflict
from handoff.handovers.models import ArtifactKind, HandoverState, Metric, ReviewDecision, TaskType
from handoff.handovers.services import signed_revision
from handoff.teams.models import Role
from handoff.validation import selectors as validation

from .models import Candidate

ISSUED_STATES = (HandoverState.ACCEPTED, HandoverState.DEPLOYED, HandoverState.RETIRED)
NOT_ISSUED = "The model card is issued once the handover is accepted."
LATENCY, MEMORY, PARAMETERS, FORMAT = (
    "runtime.latency_p95_ms", "runtime.peak_memory_mb", "model.parameters", "model.format")


@dataclass
class CardFacts:
    """Everything a card says, read once."""

    handover: object
    revision: object
    review: object
    run: object | None
    checks: dict  # key -> CheckResult of the run
    artifacts: list
    contract: object | None = None
    signatures: list = field(default_factory=list)

    @property
    def blind(self):
        return bool(self.handover.labels_blind)

    @property
    def labels(self):
        return next((a for a in self.artifacts if a.kind == ArtifactKind.LABELS), None)

    def measured(self, key):
        check = self.checks.get(key)
        return None if check is None else check.measured


def card_facts(handover):
    """What the card of ``handover`` (already found in the reader's scope) is
    built from; Conflict (a 409) unless it was accepted."""
    if handover.state not in ISSUED_STATES:
        raise Conflict(NOT_ISSUED)
    revision = signed_revision(handover)
    review = None
    if revision is not None:
        review = (revision.reviews.filter(decision=ReviewDecision.ACCEPT).select_related("reviewer")
                  .first())
    if review is None:
        raise Conflict(NOT_ISSUED)
    run = validation.latest_run_with_checks(revision)
    checks = {check.key: check for check in run.checks.all()} if run is not None else {}
    candidate = Candidate.objects.select_related("contract").filter(handover=handover).first()
    contract = candidate.contract if candidate is not None else None
    signatures = (list(contract.signatures.select_related("signer").order_by("signed_at", "pk"))
                  if contract is not None else [])
    return CardFacts(handover=handover, revision=revision, review=review, run=run, checks=checks,
                     artifacts=list(revision.artifacts.order_by("kind", "original_name")),
                     contract=contract, signatures=signatures)


# --- the YAML front matter -------------------------------------------------------------------------


def measured_metrics(facts):
    """[(metric key, label, measured value)] of every metric the run measured, in the run's order."""
    rows = []
    for check in sorted(facts.checks.values(), key=lambda c: c.position):
        if check.key.startswith("metric.") and check.measured is not None:
            name = check.key.split(".", 1)[1]
            label = Metric(name).label if name in Metric.values else name
            rows.append((name, label, check.measured))
    return rows


def _without_empty(mapping):
    return {key: value for key, value in mapping.items() if value not in (None, "", [], {})}


def metadata(facts):
    """The card's YAML metadata (a dict), Hugging Face's keys first."""
    handover, revision = facts.handover, facts.revision
    task = revision.task_type
    fmt = (facts.checks.get(FORMAT).details or {}).get("format") if FORMAT in facts.checks else None
    tags = ["handoff", task, handover.project.slug]
    if facts.contract is not None:
        tags.append("agreed-contract")
    if facts.blind:
        tags.append("blind-labels")
    dataset = _without_empty({
        "name": revision.validation_description or f"{handover.project.name} validation set",
        "type": "validation",
        "split": "validation",
    })
    result = {
        "task": _without_empty({"type": task, "name": TaskType(task).label if task else ""}),
        "dataset": dataset,
        "metrics": [{"type": name, "value": float(value), "name": f"{label} (measured)"}
                    for name, label, value in measured_metrics(facts)],
    }
    environment = facts.run.environment if facts.run is not None else {}
    measured = _without_empty({
        "parameters": _whole(facts.measured(PARAMETERS)),
        "latency_p95_ms": facts.measured(LATENCY),
        "latency_batch_size": revision.latency_batch_size if facts.measured(LATENCY) is not None else None,
        "peak_memory_mb": facts.measured(MEMORY),
        "environment": _without_empty(dict(environment or {})),
    })
    signed = _without_empty({
        "handover": handover.pk,
        "revision": revision.number,
        "accepted_by": facts.review.reviewer.username,
        "accepted_at": facts.review.created_at.isoformat(),
        "validation_run": facts.run.number if facts.run is not None else None,
        "artifact_hashes": dict(facts.review.artifact_hashes or {}),
        "labels_sha256": facts.labels.sha256 if facts.labels is not None else None,
        "contract": _contract_metadata(facts),
    })
    return _without_empty({
        "model_name": handover.model.name,
        "version": handover.version_label,
        "library_name": revision.framework,
        "framework": revision.framework,
        "framework_version": revision.framework_version,
        "model_format": fmt,
        "tags": [tag for tag in tags if tag],
        "model-index": [{"name": f"{handover.model.name} {handover.version_label}", "results": [result]}],
        "measured": measured,
        "handoff": signed,
    })


def _contract_metadata(facts):
    contract = facts.contract
    if contract is None:
        return None
    return {
        "title": contract.title,
        "version": contract.version,
        "labels_blind": contract.labels_blind,
        "signatures": [{"signer": s.signer.username, "role": s.role, "signed_at": s.signed_at.isoformat(),
                        "terms_sha256": s.terms_sha256} for s in facts.signatures],
    }


def _whole(value):
    return None if value is None else int(round(value))


# --- the Markdown body -----------------------------------------------------------------------------


def _cell(value):
    text = "—" if value in (None, "") else str(value)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _figure(value, digits=4):
    if value is None:
        return None
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.{digits}g}"


def _status(check):
    return check.get_status_display() if check is not None else "not measured"


def _bound(minimum, maximum):
    if minimum is not None and maximum is not None:
        return f"{_figure(minimum)} to {_figure(maximum)}"
    if minimum is not None:
        return f"≥ {_figure(minimum)}"
    if maximum is not None:
        return f"≤ {_figure(maximum)}"
    return None


def body(facts):
    """The card's Markdown below the front matter."""
    handover, revision = facts.handover, facts.revision
    sections = [
        f"# Model card: {handover.model.name} {handover.version_label}",
        (f"Issued by Handoff from revision {revision.number} as accepted and signed by "
         f"{facts.review.reviewer.display_name} on {facts.review.created_at:%Y-%m-%d %H:%M} UTC, and from "
         + (f"validation run {facts.run.number} of that revision." if facts.run is not None
            else "no validation run (none was recorded for that revision).")
         + " Every figure here was measured by Handoff's workers; none is the data scientist's claim."),
        "## Intended use",
        revision.intended_use.strip() or "Not stated.",
        "## Limitations",
        revision.limitations.strip() or "Not stated.",
        "## Metrics (measured)",
        _metrics_section(facts),
        "## Validation set",
        _validation_section(facts),
        "## Fairness",
        _fairness_section(facts),
        "## Parameters, latency and memory",
        _runtime_section(facts),
        "## Signatures and artifact hashes",
        _signatures_section(facts),
    ]
    return "\n\n".join(sections) + "\n"


def _metrics_section(facts):
    bounds = {c.metric: (c.minimum, c.maximum) for c in facts.revision.claimed_metrics.all()}
    rows = []
    for name, label, value in measured_metrics(facts):
        check = facts.checks[f"metric.{name}"]
        rows.append((label, _figure(value), _bound(*bounds.get(name, (None, None))), _status(check)))
    if not rows:
        return "No metric was measured."
    return _table(["Metric", "Measured", "Required", "Result"], rows)


def _validation_section(facts):
    revision = facts.revision
    rows_check = facts.checks.get("data.rows")
    labels = facts.labels
    lines = [revision.validation_description.strip() or "No description was given."]
    facts_rows = [("Rows (measured)", _figure(rows_check.measured) if rows_check is not None else None),
                  ("Rows (agreed)", _figure(revision.validation_row_count))]
    if labels is not None:
        if not facts.blind:
            facts_rows.append(("Labels file", labels.original_name))
        facts_rows.append(("Labels sha256", f"`{labels.sha256}`"))
    lines.append(_table(["What", "Value"], facts_rows))
    if facts.blind:
        lines.append("The contract holds these labels blind: this card gives their sha256 only, never "
                     "the file or a row of it.")
    return "\n\n".join(lines)


def _fairness_section(facts):
    check = next((c for key, c in facts.checks.items() if key.startswith("fairness.")), None)
    if check is None:
        return "No fairness slice was agreed."
    details = check.details or {}
    metric = details.get("metric") or check.key.split(".", 1)[1].removesuffix("_gap")
    column = details.get("slice_column") or facts.revision.fairness_slice_column
    gap = _figure(check.measured) or "not measured"
    lines = [f"{Metric(metric).label if metric in Metric.values else metric} per value of `{column}`, "
             f"as measured: the largest gap between two slices was {gap}"
             f" (the largest allowed: {_figure(check.limit) or 'none agreed'}; {_status(check).lower()})."]
    slices = details.get("slices") or []
    if slices:
        lines.append(_table(["Slice", "Rows", "Measured"],
                            [(s.get("value"), _figure(s.get("rows")), _figure(s.get("measured")))
                             for s in slices]))
    return "\n\n".join(lines)


def _runtime_section(facts):
    revision = facts.revision
    rows = [
        ("Parameters", _figure(facts.measured(PARAMETERS)), _bound(None, revision.max_parameter_count),
         _status(facts.checks.get(PARAMETERS))),
        (f"p95 latency (ms, batch of {revision.latency_batch_size})", _figure(facts.measured(LATENCY)),
         _bound(None, revision.latency_p95_ms), _status(facts.checks.get(LATENCY))),
        ("Peak memory (MB)", _figure(facts.measured(MEMORY)), _bound(None, revision.peak_memory_mb),
         _status(facts.checks.get(MEMORY))),
    ]
    lines = [_table(["Figure", "Measured", "Budget", "Result"], rows)]
    environment = facts.run.environment if facts.run is not None else {}
    if environment:
        threads = environment.get("threads")
        lines.append(f"Measured on {environment.get('cpu_model', 'an unnamed CPU')}"
                     + (f" with {threads} thread{'s' if threads != 1 else ''}" if threads else "")
                     + (f", by worker `{facts.run.worker}`" if facts.run.worker else "") + ".")
    return "\n\n".join(lines)


def _role(role):
    return Role(role).label if role in Role.values else role


def _signatures_section(facts):
    review = facts.review
    lines = [f"Accepted and signed by {review.reviewer.display_name} (`{review.reviewer.username}`) on "
             f"{review.created_at:%Y-%m-%d %H:%M} UTC, revision {facts.revision.number}."]
    hashes = review.artifact_hashes or {}
    if hashes:
        lines.append(_table(["Artifact", "sha256 as signed"],
                            [(kind, f"`{sha}`") for kind, sha in sorted(hashes.items())]))
    contract = facts.contract
    if contract is not None:
        lines.append(f"Filed as a candidate of the agreed contract “{contract.title}”, version "
                     f"{contract.version}, signed by:")
        lines.append(_table(["Signer", "Role", "Signed", "Terms sha256"], [
            (f"{s.signer.display_name} (`{s.signer.username}`)", _role(s.role),
             f"{s.signed_at:%Y-%m-%d %H:%M} UTC", f"`{s.terms_sha256}`") for s in facts.signatures
        ]))
    return "\n\n".join(lines)


# --- the card --------------------------------------------------------------------------------------


def front_matter(facts):
    return yaml.safe_dump(metadata(facts), sort_keys=False, allow_unicode=True, width=100)


def model_card(handover):
    """The card of ``handover`` as Markdown with YAML front matter; Conflict unless accepted."""
    facts = card_facts(handover)
    return f"---\n{front_matter(facts)}---\n\n{body(facts)}"


def file_name(handover):
    """model-card-<model>-<version>.md, safe as a download's name."""
    from django.utils.text import get_valid_filename

    return get_valid_filename(f"model-card-{handover.model.name}-{handover.version_label}.md")
