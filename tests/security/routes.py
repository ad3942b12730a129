"""What every route names and promises, for the route walk (``walker.py``).

One line per route of the project's URLconf; a route added without a line
here fails ``test_every_route_has_a_spec``. ``expect`` is what the insider
gets when sending ``walker.bodies()[0]`` (a comment, a role, a small file…)
to the world of ``conftest.world``: revision 1 submitted and sent back,
revision 2 a draft with all artifacts, so the handover is a draft.
"""

from .walker import Spec

DS, MLE, LEADER = "data_scientist", "ml_engineer", "team_leader"
PAGE_ACTION = {"GET": 405}  # a POST-only page action: POST is checked by its own tests

SPECS = {
    # --- pages without parameters
    "home": Spec(),
    # 200 or 503 depending on the services running (tests/core/test_health.py)
    "health": Spec(public=True, expect={}),
    # Only for the operator's token (tests/core/test_metrics.py); with none configured, as here, a 404
    "metrics": Spec(public=True, expect={"GET": 404}),
    "login": Spec(public=True, expect={}),
    "logout": Spec(public=True, expect={"GET": 405}),
    "password_change": Spec(),
    "password_change_done": Spec(),
    "api_token": Spec(),
    # a person's own API tokens (Dana's): everyone else gets a 404
    "revoke_api_token": Spec(obj="personal_token", expect={"GET": 200, "POST": 302}),
    "api-token-mine-list": Spec(expect={"GET": 200, "POST": 400}),  # the walk's body has no name
    "api-token-mine-detail": Spec(obj="personal_token"),
    "api-token-mine-revoke": Spec(obj="personal_token", expect={"POST": 200}),
    "handovers:list": Spec(),
    "handovers:new": Spec(),
    "handovers:mine": Spec(),
    "handovers:review_queue": Spec(insider=MLE),
    # --- teams and projects
    "teams:team": Spec(obj="team", insider=LEADER),
    "teams:project": Spec(obj="project"),
    # --- dashboards: a team's figures, for its leader (and its projects' managers); the index
    # sends someone with a single team straight to its dashboard
    "dashboards:index": Spec(insider=LEADER, expect={"GET": 302}),
    "dashboards:team": Spec(obj="team", insider=LEADER),
    "dashboards:team_csv": Spec(obj="team", insider=LEADER),
    "api-dashboard-team": Spec(obj="team", insider=LEADER),
    "teams:add_member": Spec(obj="project", insider=LEADER, expect={"GET": 405, "POST": 302}),
    "teams:change_role": Spec(obj="assignment", insider=LEADER, expect={"GET": 405, "POST": 302}),
    "teams:remove_member": Spec(obj="assignment", insider=LEADER, expect={"GET": 405, "POST": 302}),
    # --- webhooks (ML engineers and the team leader); a body without a URL is refused
    "teams:webhooks": Spec(obj="project", insider=MLE, expect={"GET": 200, "POST": 400}),
    "teams:webhook": Spec(obj="webhook", insider=LEADER),
    "teams:webhook_test": Spec(obj="webhook", insider=MLE, expect={"GET": 405, "POST": 302}),
    "teams:webhook_active": Spec(obj="webhook", insider=MLE, expect={"GET": 405, "POST": 302}),
    "teams:webhook_delete": Spec(obj="webhook", insider=LEADER, expect={"GET": 405, "POST": 302}),
    # --- handover pages
    "handovers:detail": Spec(obj="handover"),
    "handovers:state": Spec(obj="handover"),
    "handovers:edit": Spec(obj="handover"),
    "handovers:upload": Spec(obj="handover", expect={"GET": 405, "POST": 302}),
    "handovers:remove_artifact": Spec(obj="handover_artifact", expect={"GET": 405, "POST": 302}),
    "handovers:download_artifact": Spec(obj="handover_artifact"),
    "handovers:submit": Spec(obj="handover", expect={"GET": 405, "POST": 302}),
    "handovers:accept": Spec(obj="handover", insider=MLE, expect={"GET": 405, "POST": 302}),
    "handovers:request_changes": Spec(obj="handover", insider=MLE, expect={"GET": 405, "POST": 302}),
    "handovers:revise": Spec(obj="handover", expect={"GET": 405, "POST": 302}),
    "handovers:comment": Spec(obj="handover", expect={"GET": 405, "POST": 302}),
    # a draft is not validated: the owner is told so on the page, the API says 409
    "handovers:revalidate": Spec(obj="handover", expect={"GET": 405, "POST": 302}),
    "handovers:diff": Spec(obj="handover"),
    "handovers:follow": Spec(obj="handover", expect={"GET": 405, "POST": 302}),
    "handovers:unfollow": Spec(obj="handover", expect={"GET": 405, "POST": 302}),
    # --- deployments (a deployed handover of the same model, with an active deployment)
    "deployments:deploy": Spec(obj="deployed_handover", insider=MLE, expect={"GET": 200, "POST": 400}),
    # still deployed: the engineer is told why not and sent back
    "deployments:retire_handover": Spec(obj="deployed_handover", insider=MLE,
                                        expect={"GET": 405, "POST": 302}),
    "deployments:detail": Spec(obj="deployment"),
    "deployments:rollback": Spec(obj="deployment", insider=MLE, expect={"GET": 405, "POST": 302}),
    "deployments:retire": Spec(obj="deployment", insider=MLE, expect={"GET": 405, "POST": 302}),
    # a body without a name is refused
    "deployments:tokens": Spec(obj="project", insider=MLE, expect={"GET": 200, "POST": 400}),
    "deployments:revoke_token": Spec(obj="token", insider=MLE, expect={"GET": 405, "POST": 302}),
    # the team's leader records value; the walk's body names no amount: nothing changes, back to the page
    "deployments:record_value": Spec(obj="deployment", insider=LEADER, expect={"GET": 405, "POST": 302}),
    # --- incident pages: an open incident about the handover, whose owner is the data scientist.
    # A move the lifecycle refuses, or a bad severity, comes back to the page as a message (302);
    # a form that needs fields the walk's body lacks is shown again with its errors (400).
    "incidents:triage": Spec(),
    "incidents:new": Spec(expect={"GET": 200, "POST": 400}),
    "incidents:detail": Spec(obj="incident"),
    "incidents:acknowledge": Spec(obj="incident", insider=MLE, expect={"GET": 405, "POST": 302}),
    "incidents:investigate": Spec(obj="incident", insider=MLE, expect={"GET": 405, "POST": 302}),
    "incidents:mitigate": Spec(obj="incident", insider=MLE, expect={"GET": 405, "POST": 302}),
    "incidents:resolve": Spec(obj="incident", insider=MLE, expect={"GET": 405, "POST": 400}),
    "incidents:close": Spec(obj="incident", insider=MLE, expect={"GET": 405, "POST": 302}),
    "incidents:reopen": Spec(obj="incident", insider=MLE, expect={"GET": 405, "POST": 302}),
    "incidents:assign": Spec(obj="incident", insider=MLE, expect={"GET": 405, "POST": 302}),
    "incidents:severity": Spec(obj="incident", insider=MLE, expect={"GET": 405, "POST": 302}),
    "incidents:escalate": Spec(obj="incident", insider=MLE, expect={"GET": 405, "POST": 302}),
    "incidents:comment": Spec(obj="incident", expect={"GET": 405, "POST": 302}),
    "incidents:postmortem": Spec(obj="incident", expect={"GET": 405, "POST": 302}),
    "incidents:add_action_item": Spec(obj="incident", expect={"GET": 405, "POST": 400}),
    "incidents:action_item_done": Spec(obj="incident_item", expect={"GET": 405, "POST": 302}),
    "incidents:file_fix": Spec(obj="incident", expect={"GET": 405, "POST": 400}),
    # --- contract pages: an agreed contract and a draft one of Churn Alpha, and a draft candidate.
    # A move the lifecycle refuses (signing an agreed contract, selecting a draft candidate) comes
    # back as a message (302); a form the walk's body does not fill is shown again (400).
    "contracts:list": Spec(),
    "contracts:new": Spec(expect={"GET": 200, "POST": 400}),
    "contracts:detail": Spec(obj="page_contract"),
    "contracts:edit": Spec(obj="page_draft_contract", expect={"GET": 200, "POST": 400}),
    "contracts:upload": Spec(obj="page_draft_contract", expect={"GET": 405, "POST": 400}),
    "contracts:download_file": Spec(obj="page_contract_file"),
    "contracts:remove_file": Spec(obj="page_draft_contract_file", expect={"GET": 405, "POST": 302}),
    "contracts:propose": Spec(obj="page_draft_contract", expect={"GET": 405, "POST": 302}),
    "contracts:sign": Spec(obj="page_contract", expect={"GET": 405, "POST": 302}),
    "contracts:new_version": Spec(obj="page_contract", expect={"GET": 405, "POST": 302}),
    "contracts:close": Spec(obj="page_contract", expect={"GET": 405, "POST": 302}),
    "contracts:comment": Spec(obj="page_contract", expect={"GET": 405, "POST": 302}),
    "contracts:diff": Spec(obj="page_contract"),
    "contracts:new_candidate": Spec(obj="page_contract", expect={"GET": 200, "POST": 400}),
    "contracts:comparison": Spec(obj="page_contract"),
    "contracts:select": Spec(obj="page_candidate", insider=MLE, expect={"GET": 405, "POST": 302}),
    # --- the API
    "api-token": Spec(public=True, expect={"GET": 405}),
    "api-root": Spec(),
    "api-not-found": Spec(public=True, values={"rest": "v1/no-such-endpoint/"}, expect={"GET": 404}),
    "schema": Spec(public=True),
    "api-docs": Spec(public=True),
    "team-list": Spec(),
    "team-detail": Spec(obj="team", insider=LEADER),
    "project-list": Spec(),
    "project-detail": Spec(obj="project"),
    "project-webhook-list": Spec(obj="project", insider=MLE, expect={"GET": 200, "POST": 400}),
    "project-webhook-detail": Spec(obj="webhook", insider=MLE,
                                   expect={"GET": 200, "PATCH": 200, "DELETE": 204}),
    "project-webhook-deliveries": Spec(obj="webhook", insider=LEADER),
    "project-webhook-test": Spec(obj="webhook", insider=MLE, expect={"POST": 202}),
    "api-model-list": Spec(expect={"GET": 200, "POST": 400}),
    "api-model-detail": Spec(obj="model"),
    "api-handover-list": Spec(expect={"GET": 200, "POST": 400}),
    "api-handover-detail": Spec(obj="handover"),
    "api-handover-accept": Spec(obj="handover", insider=MLE, expect={"POST": 409}),
    "api-handover-request-changes": Spec(obj="handover", insider=MLE, expect={"POST": 409}),
    "api-handover-comments": Spec(obj="handover", expect={"POST": 201}),
    "api-handover-revise": Spec(obj="handover", expect={"POST": 409}),
    "api-handover-revision": Spec(obj="revision", expect={"GET": 200, "PATCH": 200}),
    "api-handover-submit": Spec(obj="handover", expect={"POST": 200}),
    "api-handover-revision-artifacts": Spec(obj="revision", form=True, expect={"POST": 201}),
    "api-artifact-detail": Spec(obj="artifact", expect={"GET": 200, "DELETE": 204}),
    "api-artifact-download": Spec(obj="artifact"),
    "api-handover-revalidate": Spec(obj="handover", insider=MLE, expect={"POST": 409}),
    "api-handover-follow": Spec(obj="handover", expect={"POST": 200}),
    "api-handover-unfollow": Spec(obj="handover", expect={"POST": 200}),
    "api-validation-run-list": Spec(),
    # the walk's body names no handover or environment: refused
    "api-deployment-list": Spec(expect={"GET": 200, "POST": 400}),
    "api-deployment-detail": Spec(obj="deployment"),
    "api-deployment-rollback": Spec(obj="deployment", insider=MLE, expect={"POST": 200}),
    "api-deployment-retire": Spec(obj="deployment", insider=MLE, expect={"POST": 200}),
    "api-deployment-retire-handover": Spec(insider=MLE, expect={"POST": 400}),
    "api-deployment-observations": Spec(obj="deployment"),
    # monitoring's: Churn Alpha's ingestion token; the walk's body has no observations
    "api-deployment-metrics": Spec(obj="deployment", ingestion=True, expect={"POST": 400}),
    # the walk's body names none of value, cost or the metric's name: nothing to change
    "api-deployment-value": Spec(obj="deployment", insider=LEADER, expect={"POST": 200}),
    "api-ingestion-token-list": Spec(insider=MLE, expect={"GET": 200, "POST": 400}),
    "api-ingestion-token-detail": Spec(obj="api_token", insider=MLE),
    "api-ingestion-token-revoke": Spec(obj="api_token", insider=MLE, expect={"POST": 200}),
    "api-validation-run-detail": Spec(obj="run"),
    # --- incidents API (the same incident); the walk's body names none of the fields they need
    "api-incident-list": Spec(expect={"GET": 200, "POST": 400}),
    "api-incident-detail": Spec(obj="incident"),
    "api-incident-acknowledge": Spec(obj="incident", insider=MLE, expect={"POST": 200}),
    "api-incident-investigate": Spec(obj="incident", insider=MLE, expect={"POST": 409}),
    "api-incident-mitigate": Spec(obj="incident", insider=MLE, expect={"POST": 409}),
    "api-incident-resolve": Spec(obj="incident", insider=MLE, expect={"POST": 400}),
    "api-incident-close": Spec(obj="incident", insider=MLE, expect={"POST": 409}),
    "api-incident-reopen": Spec(obj="incident", insider=MLE, expect={"POST": 409}),
    "api-incident-assign": Spec(obj="incident", insider=MLE, expect={"POST": 400}),
    "api-incident-severity": Spec(obj="incident", insider=MLE, expect={"POST": 400}),
    "api-incident-escalate": Spec(obj="incident", insider=MLE, expect={"POST": 200}),
    "api-incident-fix": Spec(obj="incident", expect={"POST": 400}),
    "api-incident-timeline": Spec(obj="incident"),
    "api-incident-comments": Spec(obj="incident", expect={"GET": 200, "POST": 201}),
    "api-incident-postmortem": Spec(obj="incident", expect={"GET": 200, "PUT": 400, "PATCH": 200}),
    "api-incident-action-items": Spec(obj="incident", expect={"POST": 400}),
    "api-incident-action-item": Spec(obj="api_incident_item", expect={"PATCH": 200}),
    # --- notifications: the data scientist's own, told of the changes requested on revision 1
    "notifications:list": Spec(),
    "notifications:bell": Spec(),
    "notifications:preferences": Spec(expect={"GET": 200, "POST": 302}),
    "notifications:open": Spec(obj="notification", expect={"GET": 405, "POST": 302}),
    "notifications:read_all": Spec(expect={"GET": 405, "POST": 302}),
    "api-notification-list": Spec(),
    "api-notification-read": Spec(obj="notification", expect={"POST": 200}),
    "api-notification-read-all": Spec(expect={"POST": 200}),
    # the walk's body names no kind of notification ("body", "comment" …): refused, nothing stored
    "api-notification-preferences": Spec(expect={"GET": 200, "PUT": 400}),
    # --- contracts API: an agreed contract holding its labels blind, with a candidate under review.
    # The walk's body names no title, project, model or kind a contract holds: refused. An agreed
    # contract changes by no path (409); its labels are the engineer's to read, not the scientist's.
    "api-contract-list": Spec(expect={"GET": 200, "POST": 400}),
    "api-contract-detail": Spec(obj="api_contract", expect={"GET": 200, "PATCH": 409}),
    "api-contract-propose": Spec(obj="api_contract", expect={"POST": 409}),
    "api-contract-sign": Spec(obj="api_contract", expect={"POST": 409}),
    "api-contract-new-version": Spec(obj="api_contract", expect={"POST": 201}),
    "api-contract-close": Spec(obj="api_contract", expect={"POST": 200}),
    "api-contract-versions": Spec(obj="api_contract"),
    # without ?against= the version to compare with is missing
    "api-contract-diff": Spec(obj="api_contract", expect={"GET": 400}),
    "api-contract-comments": Spec(obj="api_contract", expect={"GET": 200, "POST": 201}),
    "api-contract-artifacts": Spec(obj="api_contract", form=True, expect={"GET": 200, "POST": 400}),
    "api-contract-artifact": Spec(obj="api_contract_labels", insider=MLE, expect={"DELETE": 409}),
    "api-contract-artifact-download": Spec(obj="api_contract_labels", insider=MLE),
    "api-contract-candidates": Spec(obj="api_contract", expect={"GET": 200, "POST": 400}),
    "api-contract-comparison": Spec(obj="api_contract"),
    "api-handover-select": Spec(obj="api_candidate", insider=MLE, expect={"POST": 200}),
}

# --- the model card (contracts.card_views): of the accepted, deployed handover, which has no
# validation run; the card says so and gives what was signed.
SPECS.update({
    "contracts:model_card": Spec(obj="deployed_handover"),
    "contracts:model_card_markdown": Spec(obj="deployed_handover"),
    "api-handover-model-card": Spec(obj="deployed_handover"),
})
