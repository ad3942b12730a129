"""What the handover pages show of validation, without the handovers app
importing this one: its templates load these tags by name."""

from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("validation/_report.html", takes_context=True)
def validation_report(context, revision):
    """The latest run of ``revision``: claimed beside measured for every
    check, failures first with their sentences, skipped checks with why.
    A viewer held from blind labels reads aggregate figures only."""
    run = selectors.latest_run_with_checks(revision)
    request = context.get("request")
    blind = bool(run) and request is not None and selectors.blind_for(request.user, revision.handover)
    checks = selectors.visible_checks(run.checks.all(), blind, revision_id=revision.pk) if run else []
    checks = selectors.sorted_for_report(checks)
    return {"revision": revision, "run": run, "checks": checks, "blind": blind,
            "skipped": [c for c in checks if c.status == "skipped"]}


@register.inclusion_tag("validation/_progress.html")
def validation_progress(handover):
    """Which check of the current revision's run is running and how far it
    got (the state partial polls it: one query)."""
    return {"run": selectors.current_run(handover)}


@register.simple_tag
def validation_summaries(handovers):
    """{handover id: summary of the latest run of its current revision} for a
    page of handovers, in one query (the review queue's pass/fail column)."""
    return selectors.summaries_by_handover(handovers)


@register.filter
def summary_of(summaries, handover):
    return summaries.get(handover.pk)
