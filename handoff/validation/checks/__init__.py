"""The measuring engine of a handover: re-measure every claim from the artifacts themselves.

Plain Python: no Django, nothing of the project outside this package. The Django
app around it (``handoff.validation``) stores each Outcome as a CheckResult.

    for outcome in run_checks(terms, artifacts, progress, threads=1):
        ...  # store it; progress(check_key, done, total) drives the live progress bar
"""

from .engine import CHECK_KEYS_DOC, environment, run_checks
from .outcomes import ERROR, FAIL, PASS, SKIPPED, Outcome
from .terms import ArtifactFile, Claim, Terms

__all__ = [
    "PASS",
    "FAIL",
    "ERROR",
    "SKIPPED",
    "Outcome",
    "Claim",
    "Terms",
    "ArtifactFile",
    "run_checks",
    "CHECK_KEYS_DOC",
    "environment",
]
