"""Who hears about what happens to a handover, and in which words.

The services call ``announce`` with each audit event they record, inside
their transaction; the notifications app stores and delivers what it is
given (it knows nothing of handovers). Everyone concerned is told once; the
person who acted is not told of their own act.
"""

from django.urls import reverse

from handoff.access import Action, can, people_allowing
from handoff.notifications import kinds, webhooks
from handoff.notifications.services import absolute, notify
from handoff.notifications.webhooks import slack_text

KINDS = {
    "validation_passed": "Validation of my handover passed",
    "validation_failed": "Validation of my handover failed",
    "awaiting_review": "A handover in my project awaits review",
    "accepted": "My handover was accepted",
    "changes_requested": "Changes were requested on my handover",
    "commented": "A comment on a handover I follow",
    "mentioned": "Someone mentioned me",
    "not_selected": "My candidate was not selected",
}

# What a project's webhooks may ask to be sent: the audit verbs of a handover's life.
WEBHOOK_EVENTS = {
    "handover.created": "Handover filed",
    "handover.submitted": "Revision submitted",
    "handover.validation_passed": "Validation passed",
    "handover.validation_failed": "Validation failed",
    "handover.revalidation_requested": "Validation run again",
    "handover.accepted": "Handover accepted",
    "handover.changes_requested": "Changes requested",
    "handover.revised": "Handover revised",
    "handover.commented": "Comment posted",
    "handover.not_selected": "Candidate not selected",
}


def register_kinds():
    for key, label in KINDS.items():
        kinds.register(key, label)
    for name, label in WEBHOOK_EVENTS.items():
        webhooks.register_event(name, label)


def _who(event):
    return event.actor.display_name if event.actor is not None else "Someone"


def _followers(handover):
    """Who follows the handover (by default its owner, reviewer and commenters;
    see ``services.follow``) and may still see it."""
    from django.contrib.auth import get_user_model

    from .models import Follow

    following = Follow.objects.filter(handover=handover, following=True).values("user")
    return [person for person in get_user_model().objects.filter(pk__in=following)
            if can(person, Action.VIEW, handover)]


def is_following(user, handover):
    from .models import Follow

    return Follow.objects.filter(user=user, handover=handover, following=True).exists()


def _mentioned(event):
    """The members of the project ``@mentioned`` in the event's comment (the
    service kept only those who may see the handover)."""
    from django.contrib.auth import get_user_model

    ids = event.details.get("mentioned") or []
    return list(get_user_model().objects.filter(pk__in=ids)) if ids else []


def _tell_followers(event, handover, *, mentioned_subject, excerpt="", **told):
    """A mention is the more specific news: whoever is mentioned gets that one,
    and each other follower the event's own kind (one notification each)."""
    mentioned = _mentioned(event)
    notify(event, mentioned, kind="mentioned", subject=mentioned_subject, body=excerpt, url=told["url"],
           target=handover)
    seen = {person.pk for person in mentioned}
    notify(event, [person for person in _followers(handover) if person.pk not in seen], target=handover,
           **told)


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
        _tell_followers(event, handover, kind="accepted", url=url,
                        subject=f"{name} was accepted by {_who(event)}",
                        mentioned_subject=f"{_who(event)} mentioned you accepting {name}")
    elif verb == "handover.changes_requested":
        _tell_followers(event, handover, kind="changes_requested", url=url,
                        subject=f"{_who(event)} requested changes on {name}",
                        mentioned_subject=f"{_who(event)} mentioned you requesting changes on {name}")
    elif verb == "handover.not_selected":
        notify(event, [handover.owner], kind="not_selected", url=url, target=handover,
               subject=f"{handover} was not selected", body=event.details.get("reason", ""))
    elif verb == "handover.commented":
        body = event.target.body[:2000]
        _tell_followers(event, handover, kind="commented", url=url, body=body, excerpt=body,
                        subject=f"{_who(event)} commented on {handover}",
                        mentioned_subject=f"{_who(event)} mentioned you on {handover}")
    if verb in WEBHOOK_EVENTS:
        _publish(event, handover, name, absolute(url))



def _publish(event, handover, name, url):
    """Send ``event`` to the project's webhooks that asked for it."""
    project = handover.project
    by = f" by {slack_text(event.actor.display_name)}" if event.actor is not None else ""
    failing = slack_text(_failing(event)) if event.verb == "handover.validation_failed" else ""
    text = (f"{WEBHOOK_EVENTS[event.verb]}{by}: <{url}|{slack_text(name)}> in "
            f"{slack_text(project.name)}.{failing}")
    webhooks.publish(event, project, text=text, fields={
        "project": {"slug": project.slug, "name": project.name},
        "handover": {"id": handover.pk, "name": str(handover), "state": handover.state},
        "url": url,
    })
