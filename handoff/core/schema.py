"""The OpenAPI schema class of every API view (settings: DEFAULT_SCHEMA_CLASS).

It lives apart from ``handoff.core.api`` because drf-spectacular imports
rest_framework.generics, which imports that module for ``Pagination``.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import permissions, serializers

# What str.strip() removes (str.isspace), spelled out: JSON Schema's \s is not Python's.
_SPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Text the API reads: never a NUL (Django refuses it) and, when required, something besides white space
# (the services strip text and refuse what is left empty).
TEXT = r"^[^\u0000]*$"
REQUIRED_TEXT = rf"^[{_SPACE}]*[^\u0000{_SPACE}][^\u0000]*$"  # one way to match: quick to generate


def document(**properties):
    """Class decorator for an input serializer: JSON Schema keywords to add to
    its fields in the OpenAPI schema (``latency_p95_ms={"minimum": 0}``), for
    rules the services enforce, so that the schema says what the API accepts.
    A callable gives the keywords when the schema is made (a list that apps
    fill as they start)."""

    def decorate(cls):
        cls.schema_properties = {**getattr(cls, "schema_properties", {}), **properties}
        return cls

    return decorate


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer: ``detail`` always; a bad field also has its own list of messages."""

    detail = serializers.CharField(help_text="What went wrong, in a sentence to show as it is.")
    field = serializers.CharField(required=False, help_text="The field at fault, when there is one.")


# The errors any operation of a kind can answer, beyond what its view declares.
IMPLIED_ERRORS = {
    "400": "Bad input: `detail` says what is wrong; a bad field also has its own list of messages",
    "401": "No token, or a malformed or unknown one: see `detail`",
    "403": "Your role does not allow this",
    "404": "Not found, or outside your projects (a page past the end of a list, too)",
    "415": "The body is not in a media type this operation reads",
    "503": "A service Handoff needs (the database, Redis) is away for a moment: `detail` says which. "
           "Retry after `Retry-After` seconds (README, \"When a service restarts\")",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema plus the errors every operation can answer:
    401 without a valid token, 404 for an object out of reach or a page past
    the end, 400 for a bad filter or body, 403 for a write your role does not
    allow, 415 for a body of another media type; every 4xx with its JSON
    body (``Error``). Clients and the fuzz test (tests/core/test_api_fuzz.py)
    hold the API to it."""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "request":
            return schema
        extra = getattr(serializer, "schema_properties", {})
        for name, field in serializer.fields.items():
            prop = schema["properties"].get(name)
            if prop is None or "$ref" in prop:
                continue
            keywords = extra.get(name, {})
            prop.update(keywords() if callable(keywords) else keywords)
            if isinstance(field, serializers.CharField) and prop.get("type") == "string" and not (
                {"pattern", "format", "enum"} & set(prop)
            ):
                prop["pattern"] = TEXT if field.allow_blank else REQUIRED_TEXT
        return schema

    def _get_filter_parameters(self):
        parameters = super()._get_filter_parameters()
        blank_means_any = getattr(getattr(self.view, "filterset_class", None), "blank_means_any", False)
        for parameter in parameters:
            schema = parameter["schema"]
            choices = schema.get("items", schema).get("enum")
            # A form's "any" sends state=: one choice left empty is no filter (Django's ChoiceField),
            # and so is a list of them where the filter set drops empty values.
            if choices is not None and "" not in choices and (blank_means_any or "items" not in schema):
                choices.append("")
            if schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema):
                schema["pattern"] = TEXT  # a form field refuses a NUL in a query string too
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._implied_error_codes():
            responses.setdefault(code, {"description": IMPLIED_ERRORS[code]})
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        for code, response in responses.items():
            if (code.startswith("4") or code == "503") and "content" not in response:
                response["content"] = {"application/json": {"schema": error}}
        responses["503"].setdefault("headers", {"Retry-After": {
            "schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}})
        return dict(sorted(responses.items()))

    def _implied_error_codes(self):
        codes = ["503"]  # any operation, while its database or Redis is away (handoff.core.outages)
        if any(not isinstance(p, permissions.AllowAny) for p in self.view.get_permissions()):
            codes.append("401")
            # A write may be beyond your role; so may a read of a view that says so
            # (``role_needed_to_read``: a project's webhooks, for its engineers only).
            reads_need_a_role = getattr(self.view, "role_needed_to_read", False)
            if self.method not in permissions.SAFE_METHODS or reads_need_a_role:
                codes.append("403")
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            codes.append("404")
        if self.method in {"POST", "PUT", "PATCH"} or (
            self._is_list_view() and self.get_filter_backends()
        ):
            codes.append("400")
        if self.method in {"POST", "PUT", "PATCH"} and self.get_request_serializer() is not None:
            codes.append("415")
        return codes


# --- Links: the flows a client follows from an answer to its next call -----------------------------
# OpenAPI links on the answers that hand out an id (a create, a list), naming the operations that take it:
# clients read the flows from the schema, and schemathesis' stateful phase follows them (`make fuzz`,
# tests/core/test_api_fuzz.py). drf-spectacular emits none by itself; ``add_links`` adds these.
# (source path, method, status) -> [(link name, target path, target method, {parameter: expression})]
_ID = "$response.body#/id"
_HANDOVER = {"id": _ID}
_REVISION = {"id": _ID, "number": "$response.body#/current_revision"}
_SAME = {"id": "$request.path.id"}
_FIRST_SLUG = {"slug": "$response.body#/results/0/slug"}
_WEBHOOK = {"slug": "$request.path.slug", "id": _ID}
LINKS = {
    ("/api/v1/handovers/", "post", "201"): [
        ("GetHandover", "/api/v1/handovers/{id}/", "get", _HANDOVER),
        ("SubmitHandover", "/api/v1/handovers/{id}/submit/", "post", _HANDOVER),
        ("GetRevision", "/api/v1/handovers/{id}/revisions/{number}/", "get", _REVISION),
        ("EditRevision", "/api/v1/handovers/{id}/revisions/{number}/", "patch", _REVISION),
        ("UploadArtifact", "/api/v1/handovers/{id}/revisions/{number}/artifacts/", "post", _REVISION),
        ("CommentOnHandover", "/api/v1/handovers/{id}/comments/", "post", _HANDOVER),
        ("GetModelCard", "/api/v1/handovers/{id}/model-card/", "get", _HANDOVER),
    ],
    ("/api/v1/handovers/{id}/submit/", "post", "200"): [
        ("GetSubmittedHandover", "/api/v1/handovers/{id}/", "get", _HANDOVER),
        ("RevalidateHandover", "/api/v1/handovers/{id}/revalidate/", "post", _HANDOVER),
    ],
    ("/api/v1/handovers/{id}/revisions/{number}/artifacts/", "post", "201"): [
        ("GetArtifact", "/api/v1/artifacts/{id}/", "get", {"id": _ID}),
        ("DownloadArtifact", "/api/v1/artifacts/{id}/download/", "get", {"id": _ID}),
        ("DeleteArtifact", "/api/v1/artifacts/{id}/", "delete", {"id": _ID}),
    ],
    ("/api/v1/models/", "post", "201"): [
        ("GetModel", "/api/v1/models/{id}/", "get", {"id": _ID}),
    ],
    ("/api/v1/incidents/", "post", "201"): [
        ("GetIncident", "/api/v1/incidents/{id}/", "get", {"id": _ID}),
        ("AcknowledgeIncident", "/api/v1/incidents/{id}/acknowledge/", "post", {"id": _ID}),
        ("ResolveIncident", "/api/v1/incidents/{id}/resolve/", "post", {"id": _ID}),
        ("CommentOnIncident", "/api/v1/incidents/{id}/comments/", "post", {"id": _ID}),
        ("ListIncidentComments", "/api/v1/incidents/{id}/comments/", "get", {"id": _ID}),
        ("AddActionItem", "/api/v1/incidents/{id}/action-items/", "post", {"id": _ID}),
        ("GetIncidentTimeline", "/api/v1/incidents/{id}/timeline/", "get", {"id": _ID}),
        ("AssignIncident", "/api/v1/incidents/{id}/assign/", "post", {"id": _ID}),
        ("EscalateIncident", "/api/v1/incidents/{id}/escalate/", "post", {"id": _ID}),
    ],
    # The lifecycle a step at a time (incidents.lifecycle): acknowledge, investigate, mitigate, resolve.
    ("/api/v1/incidents/{id}/acknowledge/", "post", "200"): [
        ("InvestigateIncident", "/api/v1/incidents/{id}/investigate/", "post", _SAME),
    ],
    ("/api/v1/incidents/{id}/investigate/", "post", "200"): [
        ("MitigateIncident", "/api/v1/incidents/{id}/mitigate/", "post", _SAME),
    ],
    ("/api/v1/incidents/{id}/mitigate/", "post", "200"): [
        ("ResolveMitigatedIncident", "/api/v1/incidents/{id}/resolve/", "post", _SAME),
    ],
    ("/api/v1/incidents/{id}/resolve/", "post", "200"): [
        ("CloseIncident", "/api/v1/incidents/{id}/close/", "post", _SAME),
        ("ReopenIncident", "/api/v1/incidents/{id}/reopen/", "post", _SAME),
        ("WritePostmortem", "/api/v1/incidents/{id}/postmortem/", "put", _SAME),
    ],
    ("/api/v1/incidents/{id}/action-items/", "post", "201"): [
        ("UpdateActionItem", "/api/v1/incidents/{id}/action-items/{item_id}/", "patch",
         {"id": "$request.path.id", "item_id": _ID}),
    ],
    ("/api/v1/contracts/", "post", "201"): [
        ("GetContract", "/api/v1/contracts/{id}/", "get", {"id": _ID}),
        ("EditContract", "/api/v1/contracts/{id}/", "patch", {"id": _ID}),
        ("ProposeContract", "/api/v1/contracts/{id}/propose/", "post", {"id": _ID}),
        ("UploadContractArtifact", "/api/v1/contracts/{id}/artifacts/", "post", {"id": _ID}),
        ("CommentOnContract", "/api/v1/contracts/{id}/comments/", "post", {"id": _ID}),
        ("ListCandidates", "/api/v1/contracts/{id}/candidates/", "get", {"id": _ID}),
        ("FileCandidate", "/api/v1/contracts/{id}/candidates/", "post", {"id": _ID}),
        ("ListContractVersions", "/api/v1/contracts/{id}/versions/", "get", {"id": _ID}),
        ("DiffContract", "/api/v1/contracts/{id}/diff/", "get", {"id": _ID}),
    ],
    ("/api/v1/contracts/{id}/propose/", "post", "200"): [
        ("SignContract", "/api/v1/contracts/{id}/sign/", "post", _SAME),
    ],
    ("/api/v1/contracts/{id}/sign/", "post", "200"): [
        ("FileCandidateOnAgreed", "/api/v1/contracts/{id}/candidates/", "post", _SAME),
        ("CompareCandidates", "/api/v1/contracts/{id}/comparison/", "get", _SAME),
        ("NewContractVersion", "/api/v1/contracts/{id}/new-version/", "post", _SAME),
    ],
    ("/api/v1/contracts/{id}/candidates/", "post", "201"): [
        ("GetCandidate", "/api/v1/handovers/{id}/", "get", {"id": _ID}),
        ("SelectCandidate", "/api/v1/handovers/{id}/select/", "post", {"id": _ID}),
    ],
    ("/api/v1/contracts/{id}/artifacts/", "post", "201"): [
        ("DownloadContractArtifact", "/api/v1/contracts/{id}/artifacts/{artifact_id}/download/", "get",
         {"id": "$request.path.id", "artifact_id": _ID}),
        ("DeleteContractArtifact", "/api/v1/contracts/{id}/artifacts/{artifact_id}/", "delete",
         {"id": "$request.path.id", "artifact_id": _ID}),
    ],
    ("/api/v1/deployments/", "post", "201"): [
        ("GetDeployment", "/api/v1/deployments/{id}/", "get", {"id": _ID}),
        ("PostMetrics", "/api/v1/deployments/{id}/metrics/", "post", {"id": _ID}),
        ("ListObservations", "/api/v1/deployments/{id}/observations/", "get", {"id": _ID}),
        ("SetValue", "/api/v1/deployments/{id}/value/", "post", {"id": _ID}),
        ("RollBack", "/api/v1/deployments/{id}/rollback/", "post", {"id": _ID}),
        ("Retire", "/api/v1/deployments/{id}/retire/", "post", {"id": _ID}),
    ],
    # A list's first item, for what only exists once someone made it (a project, a team, a notice).
    ("/api/v1/projects/", "get", "200"): [
        ("GetProject", "/api/v1/projects/{slug}/", "get", _FIRST_SLUG),
        ("ListWebhooks", "/api/v1/projects/{slug}/webhooks/", "get", _FIRST_SLUG),
        ("AddWebhook", "/api/v1/projects/{slug}/webhooks/", "post", _FIRST_SLUG),
    ],
    ("/api/v1/teams/", "get", "200"): [
        ("TeamDashboard", "/api/v1/dashboards/team/{slug}/", "get", _FIRST_SLUG),
    ],
    ("/api/v1/notifications/", "get", "200"): [
        ("MarkRead", "/api/v1/notifications/{id}/read/", "post", {"id": "$response.body#/results/0/id"}),
    ],
    ("/api/v1/projects/{slug}/webhooks/", "post", "201"): [
        ("GetWebhook", "/api/v1/projects/{slug}/webhooks/{id}/", "get", _WEBHOOK),
        ("EditWebhook", "/api/v1/projects/{slug}/webhooks/{id}/", "patch", _WEBHOOK),
        ("DeleteWebhook", "/api/v1/projects/{slug}/webhooks/{id}/", "delete", _WEBHOOK),
        ("TestWebhook", "/api/v1/projects/{slug}/webhooks/{id}/test/", "post", _WEBHOOK),
        ("ListDeliveries", "/api/v1/projects/{slug}/webhooks/{id}/deliveries/", "get", _WEBHOOK),
    ],
    ("/api/v1/ingestion-tokens/", "post", "201"): [
        ("GetIngestionToken", "/api/v1/ingestion-tokens/{id}/", "get", {"id": _ID}),
        ("RevokeIngestionToken", "/api/v1/ingestion-tokens/{id}/revoke/", "post", {"id": _ID}),
    ],
}


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook (settings: SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]):
    the ``LINKS`` above on their answers. A link whose operation is gone is an error here, not a
    link to nowhere in the schema."""
    paths = result.get("paths", {})
    for (path, method, status), links in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            raise KeyError(f"schema links: {method.upper()} {path} has no {status} answer")
        documented = response.setdefault("links", {})
        for name, target_path, target_method, parameters in links:
            target = paths.get(target_path, {}).get(target_method)
            if target is None:
                raise KeyError(f"schema links: {name}: {target_method.upper()} {target_path} is no operation")
            documented[name] = {
                "operationId": target["operationId"],
                "parameters": dict(parameters),
                "description": f"{target_method.upper()} {target_path} with the id this answer gives",
            }
    return result
