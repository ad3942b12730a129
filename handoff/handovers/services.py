"""Every change to models, handovers, revisions, artifacts and reviews.

Each function: permission check (handoff.access), state check against the
lifecycle table, row lock, audit event, one transaction. Views, the API and
tasks call these and nothing else writes.

INTERFACE (filled in by the handovers backend work; signatures are fixed):
"""


def create_model(actor, project, *, name, description=""):
    """A data scientist of ``project`` registers a model they own. -> Model"""
    raise NotImplementedError


def create_handover(actor, model, *, version_label, terms=None, metrics=None):
    """Open a handover for a model version with revision 1 as a draft. -> Handover"""
    raise NotImplementedError


def update_terms(actor, revision, *, terms, metrics=None):
    """Replace a draft revision's contract terms (dict of Revision fields) and,
    when ``metrics`` is given, its claimed metrics (list of dicts with metric,
    claimed_value, minimum, maximum). Refused on a frozen revision. -> Revision"""
    raise NotImplementedError


def attach_artifact(actor, revision, *, kind, uploaded_file):
    """Store an uploaded file on a draft revision; replaces the same kind. -> Artifact"""
    raise NotImplementedError


def remove_artifact(actor, artifact):
    """Delete an artifact from a draft revision."""
    raise NotImplementedError


def submit_revision(actor, revision):
    """draft -> validating; freezes the revision and queues validation. -> Revision"""
    raise NotImplementedError


def record_validation_outcome(revision, *, passed):
    """validating -> awaiting_review | validation_failed. Called by the validation task."""
    raise NotImplementedError


def accept_revision(actor, revision, *, comment=""):
    """awaiting_review -> accepted; stores the signed record. -> Review"""
    raise NotImplementedError


def request_changes(actor, revision, *, comment):
    """awaiting_review -> changes_requested; comment required. -> Review"""
    raise NotImplementedError


def revise_handover(actor, handover):
    """validation_failed | changes_requested -> draft with revision n+1 copied from n. -> Revision"""
    raise NotImplementedError


def add_comment(actor, handover, *, body):
    """Anyone who may comment on the project adds a comment. -> Comment"""
    raise NotImplementedError
