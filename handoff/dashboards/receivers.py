"""The events that change a dashboard's figures drop its cached copy: a handover
moving (submitted, validated, reviewed, accepted, deployed, filed as a candidate),
a finished validation run, a contract, a deployment (its value too) and an
incident changing. Each bumps the version of its project's figures
(``selectors.figures_changed``), which every cached dashboard of it is keyed by."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from handoff.contracts.models import Contract
from handoff.deployments.models import Deployment
from handoff.handovers.models import Handover
from handoff.incidents.models import Incident
from handoff.validation.models import ValidationRun

from .selectors import figures_changed


def _changed(project_pk):
    # Now, and again after the commit: a dashboard computed in between (still reading the
    # old rows) is cached under a version the commit leaves behind.
    figures_changed(project_pk)
    transaction.on_commit(partial(figures_changed, project_pk))


@receiver([post_save, post_delete], sender=Handover)
@receiver([post_save, post_delete], sender=Contract)
@receiver([post_save, post_delete], sender=Deployment)
@receiver([post_save, post_delete], sender=Incident)
def project_row_changed(sender, instance, **kwargs):
    _changed(instance.project_id)


@receiver(post_save, sender=ValidationRun)
def run_finished(sender, instance, **kwargs):
    if instance.finished:
        handovers = Handover.objects.filter(revisions=instance.revision_id)
        _changed(handovers.values_list("project_id", flat=True).first())
