"""Who hears about what happens to a handover, and in which words.

The services call ``announce`` with each audit event they record, inside
their transaction; the notifications app stores and delivers what it is
given (it knows nothing of handovers). Everyone concerned is told once; the
person who acted is not told of their own act.
"""

from django.urls import reverse

from handoff.access import Action, people_allowing
from handoff.notifications import kinds
from handoff.notifications.services import notify

KINDS = {
    "validation_passed": "Validation of my handover passed",
    "validation_failed": "Validation of my handover failed",
    "awaiting_review": "A handover in my project awaits review",
    "accepted": "My handover was accepted",
    "changes_requested": "Changes were requested on my handover",
    "commented": "A comment on a handover I follow",
}


def register_kinds():
    for key, label in KINDS.items():
        kinds.register(key, label)


def _who(event):
    return event.actor.display_name if event.actor is not None else "Someone"


def _followers(handover):
    """The owner, the reviewer, and whoever commented."""
    from django.contrib.auth import get_user_model

    from .models import Comment

    authors = Comment.objects.filter(handover=handover).values("author")
    return [handover.owner, handover.reviewer, *get_user_model().objects.filter(pk__in=authors)]


def _failing(event):
    failing = event.details.get("failing") or []
    return f" Failing: {', '.join(failing)}." if failing else ""


def announce(event, handover):
    """Tell the people concerned about ``event``, one of ``handover``'s audit events."""
    url = reverse("handovers:detail", args=[handover.pk])
    revision = event.details.get("revision")
    name = f"{handover} (revision {revision})" if revision else str(handover)
    verb = event.verb
    if verb == "handover.validation_passed":
        notify(event, [handover.owner], kind="validation_passed", url=url, target=handover,
               subject=f"{name}: validation passed",
               body="Every claim was measured and holds; the handover awaits review.")
        notify_reviewers = people_allowing(handover.project, Action.REVIEW_REVISION)
        notify(event, notify_reviewers, kind="awaiting_review", url=url, target=handover,
               subject=f"{name} awaits your review",
               body=f"Validation passed; {handover.owner.display_name} hands it over.")
    elif verb == "handover.validation_failed":
        notify(event, [handover.owner], kind="validation_failed", url=url, target=handover,
               subject=f"{name}: validation failed",
               body=f"Some claims do not hold.{_failing(event)} Open the report to see why.")
    elif verb == "handover.accepted":
        notify(event, _followers(handover), kind="accepted", url=url, target=handover,
               subject=f"{name} was accepted by {_who(event)}")
    elif verb == "handover.changes_requested":
        notify(event, _followers(handover), kind="changes_requested", url=url, target=handover,
               subject=f"{_who(event)} requested changes on {name}")
    elif verb == "handover.commented":
        notify(event, _followers(handover), kind="commented", url=url, target=handover,
               subject=f"{_who(event)} commented on {handover}", body=event.target.body[:2000])
