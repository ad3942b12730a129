"""Who hears about what happens to a contract, and in which words.

The services call ``announce`` with each audit event they record, inside
their transaction (told if and only if it happened); the person who acted is
not told of their own act. A candidate's own news (not selected) is the
handover's, told by ``handovers.notices``.
"""

from django.contrib.auth import get_user_model
from django.urls import reverse

from handoff.access import Action, can, people_allowing
from handoff.notifications import kinds, webhooks
from handoff.notifications.services import absolute, notify
from handoff.notifications.webhooks import slack_text

KINDS = {
    "contract_proposed": "A contract of my project awaits my signature",
    "contract_agreed": "A contract I drafted or signed is agreed",
    "contract_unsigned": "A contract I signed changed, and my signature was cleared",
    "contract_commented": "A comment on a contract I drafted or signed",
}
WEBHOOK_EVENTS = {
    "contract.proposed": "Contract proposed",
    "contract.agreed": "Contract agreed",
    "contract.candidate_selected": "Candidate selected",
}


def register_kinds():
    for key, label in KINDS.items():
        kinds.register(key, label)
    for name, label in WEBHOOK_EVENTS.items():
        webhooks.register_event(name, label)


def _who(event):
    return event.actor.display_name if event.actor is not None else "Someone"


def _parties(contract):
    """Who drafted or signed the contract and may still see it."""
    ids = {contract.created_by_id, *contract.signatures.values_list("signer_id", flat=True)}
    return [
        person for person in get_user_model().objects.filter(pk__in=ids) if can(person, Action.VIEW, contract)
    ]


def announce(event, contract):
    """Tell the people concerned about ``event``, one of ``contract``'s audit events."""
    url = reverse("contracts:detail", args=[contract.pk])
    verb = event.verb
    if verb == "contract.proposed":
        notify(
            event,
            people_allowing(contract.project, Action.SIGN_CONTRACT),
            kind="contract_proposed",
            url=url,
            target=contract,
            subject=f"{_who(event)} proposed {contract}: read and sign it",
            body="A data scientist and an ML engineer of the project both sign before candidates are filed.",
        )
    elif verb == "contract.agreed":
        notify(
            event,
            _parties(contract),
            kind="contract_agreed",
            url=url,
            target=contract,
            subject=f"{contract} is agreed",
            body="Candidates can now be filed against it.",
        )
    elif verb == "contract.signatures_cleared":
        signers = get_user_model().objects.filter(username__in=event.details.get("signers") or [])
        notify(
            event,
            signers,
            kind="contract_unsigned",
            url=url,
            target=contract,
            subject=f"{_who(event)} changed {contract}; your signature was cleared",
            body="Read the new terms and sign again if you agree.",
        )
    elif verb == "contract.commented":
        mentioned = list(get_user_model().objects.filter(pk__in=event.details.get("mentioned") or []))
        seen = {person.pk for person in mentioned}
        body = event.target.body[:2000]
        notify(
            event,
            mentioned,
            kind="mentioned",
            url=url,
            target=contract,
            body=body,
            subject=f"{_who(event)} mentioned you on {contract}",
        )
        notify(
            event,
            [p for p in _parties(contract) if p.pk not in seen],
            kind="contract_commented",
            url=url,
            target=contract,
            body=body,
            subject=f"{_who(event)} commented on {contract}",
        )
    if verb in WEBHOOK_EVENTS:
        project = contract.project
        webhooks.publish(
            event,
            project,
            text=f"{WEBHOOK_EVENTS[verb]}: <{absolute(url)}|{slack_text(contract)}> in "
            f"{slack_text(project.name)}.",
            fields={
                "project": {"slug": project.slug, "name": project.name},
                "contract": {
                    "id": contract.pk,
                    "title": contract.title,
                    "version": contract.version,
                    "state": contract.state,
                },
                "url": absolute(url),
            },
        )
