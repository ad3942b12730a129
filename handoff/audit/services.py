from django.contrib.contenttypes.models import ContentType

from .models import AuditEvent


def record(actor, verb, target, *, project=None, **details):
    """Append an audit event; call it inside the service's transaction so the
    event and the change it describes commit (or roll back) together."""
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=actor,
        verb=verb,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        project=project,
        details=details,
    )
