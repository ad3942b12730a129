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
    rules the services enforce, so that the schema says what the API accepts."""

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
            prop.update(extra.get(name, {}))
            if isinstance(field, serializers.CharField) and prop.get("type") == "string" and not (
                {"pattern", "format", "enum"} & set(prop)
            ):
                prop["pattern"] = TEXT if field.allow_blank else REQUIRED_TEXT
        return schema

    def _get_filter_parameters(self):
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            schema = parameter["schema"]
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
