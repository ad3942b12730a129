"""On-commit callbacks as a test counts them: the doorbells a change rings (a task sent
after commit), not the dashboards dropping their cached figures after the same commit."""

from handoff.dashboards.selectors import figures_changed


def doorbells(callbacks):
    return [callback for callback in callbacks if getattr(callback, "func", None) is not figures_changed]
