"""The route walk: every URL pattern the resolver knows, checked both ways.

``routes()`` lists every pattern of a URLconf (named or not, with or without
parameters; the admin, which has its own staff-only gate, is left to
``test_admin.py``). ``SPECS`` says, for each of them, which object of the
security world (``conftest.world``) its parameters name and what a person
who may use it gets. A route without a spec is a finding, so a new route
cannot slip past the walk.

``check_route`` then makes, for one route:

* the **positive** check: the insider reaches the real object and gets the
  status the route promises (a route that answers 404 to everyone fails);
* the **negative** check: each outsider gets exactly the answer given for an
  object that does not exist (status, and body for JSON), whatever the method
  and body, and nothing changes;
* the **anonymous** check: a page sends them to log in, the API says 401.

It returns findings (sentences) instead of asserting, so that the walker's
own test can show it reports an unscoped route (``test_walker.py``).
"""

import json
import re
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from .conftest import OUTSIDERS, logged_in

MISSING_ID = 987654
MISSING_SLUG = "no-such-thing"

# Strings only Churn Alpha holds: no page or list may show them to an outsider.
SECRETS = ("Churn Alpha", "churn-alpha", "secret-churn-model", "9.9.9-secret", "secret comment")


@dataclass(frozen=True)
class Route:
    key: str  # the namespaced view name, or the pattern itself when unnamed
    pattern: str
    regex: str
    params: tuple
    api: bool
    methods: tuple  # what a viewset declares; page views are probed with GET and POST
    name: str | None = None

    def url(self, values):
        """The URL of this route with ``values`` for its parameters."""
        from django.urls import reverse

        if self.name:
            return reverse(self.name, kwargs=values) if values else reverse(self.name)
        path = self.pattern
        for param, value in values.items():
            path = re.sub(rf"<(?:\w+:)?{param}>", str(value), path)
        return "/" + path


@dataclass(frozen=True)
class Spec:
    """What a route names and what its insider gets.

    ``obj``: which object of the world the parameters name (see ``_values``);
    None for a route without parameters.
    ``insider``: who may use it (a key of ``world.people``).
    ``expect``: the insider's status per method, sent with ``BODY``.
    ``public``: anonymous callers are served too (login, health, schema).
    ``values``: fixed parameters for a route whose parameters name no object.
    ``form``: an API route that reads multipart forms (uploads), not JSON.
    ``skip``: why the walk cannot call this route (it must say why).
    ``ingestion``: the route takes a project's ingestion token, not a person:
    the insider sends Churn Alpha's, each outsider Detector Gamma's."""

    obj: str | None = None
    insider: str = "data_scientist"
    expect: dict = field(default_factory=lambda: {"GET": 200})
    public: bool = False
    values: dict = field(default_factory=dict)
    form: bool = False
    skip: str = ""
    ingestion: bool = False


def routes(urlconf=None):
    """Every route of ``urlconf`` (the project's by default) but the admin's."""
    return list(_walk(get_resolver(urlconf).url_patterns, "", "", ""))


def _walk(patterns, prefix, regex_prefix, namespace):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern),
                             regex_prefix + entry.pattern.regex.pattern.lstrip("^"), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            regex = regex_prefix + entry.pattern.regex.pattern.lstrip("^")
            actions = getattr(entry.callback, "actions", None)
            api = actions is not None or hasattr(entry.callback, "cls") or regex.startswith("api/")
            methods = tuple(sorted(m.upper() for m in actions)) if actions else ("GET", "POST")
            name = f"{namespace}{entry.name}" if entry.name else None
            yield Route(key=name or pattern, pattern=pattern, regex=regex,
                        params=tuple(sorted(entry.pattern.regex.groupindex)), api=api, methods=methods,
                        name=name)


# --- what each route names -------------------------------------------------------------------

def _values(world, obj):
    return {
        "team": {"slug": world.team.slug},
        "project": {"slug": world.project.slug},
        "assignment": {"slug": world.project.slug, "assignment_id": world.assignment.pk},
        "handover": {"pk": world.handover.pk},
        "revision": {"pk": world.handover.pk, "number": world.draft.number},
        "handover_artifact": {"pk": world.handover.pk, "artifact_pk": world.artifact.pk},
        "artifact": {"pk": world.artifact.pk},
        "model": {"pk": world.model.pk},
        "run": {"pk": world.run.pk},
        "notification": {"pk": world.notification.pk},
        "webhook": {"slug": world.project.slug, "pk": world.webhook.pk},
        "deployment": {"pk": world.deployment.pk},
        "deployed_handover": {"pk": world.deployment.handover_id},
        "token": {"slug": world.project.slug, "pk": world.token.pk},
        "api_token": {"pk": world.token.pk},
        "personal_token": {"pk": world.personal_token.pk},
        "incident": {"pk": world.incident.pk},
        "incident_item": {"pk": world.incident.pk, "item_pk": world.action_item.pk},
        "api_incident_item": {"pk": world.incident.pk, "item_id": world.action_item.pk},
        "page_contract": {"pk": world.page_contract.pk},
        "page_draft_contract": {"pk": world.page_draft_contract.pk},
        "page_contract_file": {"pk": world.page_contract.pk,
                               "artifact_pk": world.page_contract.artifacts.get().pk},
        "page_draft_contract_file": {"pk": world.page_draft_contract.pk,
                                     "artifact_pk": world.page_draft_contract.artifacts.get().pk},
        "page_candidate": {"pk": world.page_candidate.pk},
        "api_contract": {"pk": world.api_contract.pk},
        "api_contract_labels": {"pk": world.api_contract.pk, "artifact_id": world.api_contract_labels.pk},
        "api_candidate": {"pk": world.api_candidate.pk},
    }[obj]


def values_for(world, route, spec, missing=False):
    """URL parameters naming the spec's object of Churn Alpha, or (``missing``)
    an object that does not exist in its place."""
    if spec.obj is None:
        return dict(spec.values)
    values = _values(world, spec.obj)
    if missing:
        values = {k: (MISSING_ID if isinstance(v, int) else MISSING_SLUG) for k, v in values.items()}
    return values


# --- requests ----------------------------------------------------------------------------------

def bodies():
    """A body that would be valid for someone allowed, and one that is not."""
    return [
        {"body": "a comment", "comment": "please change", "role": "product_manager", "username": "lee",
         "kind": "other", "file": SimpleUploadedFile("m.txt", b"some bytes"), "framework_version": "2.0"},
        {"role": "wizard", "kind": "nonsense"},
    ]


def send(client, method, url, body, api, form=False):
    """One request as the route expects it: the API reads JSON (multipart only
    where ``form``: uploads), pages read forms."""
    if method == "GET":
        return client.get(url)
    if api and not form and method in ("POST", "PATCH", "PUT", "DELETE"):
        data = {key: value for key, value in body.items() if not hasattr(value, "read")}
        return client.generic(method, url, data=json.dumps(data), content_type="application/json")
    return client.post(url, body) if method == "POST" else client.generic(method, url)


def comparable(response):
    if response.get("Content-Type", "").startswith("application/json"):
        return response.status_code, response.content
    return response.status_code, None


# --- the checks --------------------------------------------------------------------------------

def check_route(world, route, spec, *, snapshot):
    """Findings (sentences) for one route; empty when it keeps its promises."""
    if spec.skip:
        return []
    findings = []
    real = route.url(values_for(world, route, spec))
    missing = route.url(values_for(world, route, spec, missing=True)) if spec.obj else None
    before = snapshot(world)
    if missing is not None:
        for who in OUTSIDERS:
            if who == "member_of_other_project_in_team" and spec.obj == "team":
                continue  # a member of any of a team's projects sees the team itself
            findings += _outsider(world, route, spec, who, real, missing)
        if snapshot(world) != before:
            findings.append(f"{route.key}: an outsider's request changed Churn Alpha")
    findings += _anonymous(world, route, spec, real)
    if snapshot(world) != before:
        findings.append(f"{route.key}: an anonymous request changed Churn Alpha")
    findings += _insider(world, route, spec, real, missing)
    return findings


def _client(world, spec, who):
    """Who ``who`` is to this route: logged in, or (``spec.ingestion``) holding
    their project's ingestion token: Churn Alpha's for the insider, another's for outsiders."""
    if not spec.ingestion:
        return logged_in(world.people[who])
    from django.test import Client

    secret = world.ingestion_secret if who == spec.insider else world.other_ingestion_secret
    return Client(headers={"Authorization": f"Bearer {secret}"})


def _outsider(world, route, spec, who, real, missing):
    findings = []
    client = _client(world, spec, who)
    for method in route.methods:
        for body in bodies():
            got = send(client, method, real, body, route.api, spec.form)
            nothing = send(client, method, missing, body, route.api, spec.form)
            if comparable(got) != comparable(nothing):
                findings.append(f"{route.key}: {who} {method} {real} answered {comparable(got)}, "
                                f"but {comparable(nothing)} for nothing")
            elif nothing.status_code not in (404, 405):
                findings.append(f"{route.key}: {who} {method} {real} answered {got.status_code}, not 404")
    # Methods a route does not take tell nothing either.
    for method in ("PUT", "DELETE", "PATCH"):
        if method not in route.methods:
            got = send(client, method, real, {}, route.api).status_code
            nothing = send(client, method, missing, {}, route.api).status_code
            if got != nothing:
                findings.append(f"{route.key}: {who} {method} answered {got}, but {nothing} for nothing")
    return findings


def _anonymous(world, route, spec, real):
    findings = []
    client = logged_in(None)
    for method in route.methods:
        response = send(client, method, real, bodies()[0], route.api, spec.form)
        if spec.public:
            if response.status_code in (401, 403) or response.get("Location", "").startswith(
                    "/accounts/login/?next="):
                findings.append(f"{route.key}: public, but anonymous {method} was refused")
        elif route.api:
            if response.status_code != 401:
                findings.append(f"{route.key}: anonymous {method} answered {response.status_code}, not 401")
        elif response.status_code != 302 or not response["Location"].startswith("/accounts/login/?next="):
            findings.append(f"{route.key}: anonymous {method} was not sent to log in "
                            f"({response.status_code} {response.get('Location', '')})")
    return findings


def _insider(world, route, spec, real, missing):
    findings = []
    for method, status in spec.expect.items():
        client = _client(world, spec, spec.insider)
        response = send(client, method, real, bodies()[0], route.api, spec.form)
        if response.status_code != status:
            findings.append(f"{route.key}: {spec.insider} {method} {real} answered {response.status_code}, "
                            f"but the route promises {status}")
        if missing is not None and status != 405:
            if comparable(send(client, method, missing, bodies()[0], route.api, spec.form)) == comparable(
                    response):
                findings.append(f"{route.key}: {spec.insider} gets the same answer for the real object "
                                "as for nothing")
    return findings


def unspecified(all_routes, specs):
    """Routes the walk does not know: each needs a spec."""
    return [f"{route.key}: no spec; say in tests/security/routes.py which object its parameters "
            f"{list(route.params)} name and what an insider gets" for route in all_routes
            if route.key not in specs]


def route_for_operation(all_routes, path):
    """The route serving an OpenAPI path such as /api/v1/handovers/{id}/accept/
    (the first that matches, in the resolver's order)."""
    sample = re.sub(r"\{[^}]+\}", "1", path).lstrip("/")
    for route in all_routes:
        match = re.match(route.regex, sample)
        if match and match.end() == len(sample):
            return route
    return None
