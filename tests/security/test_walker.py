"""The walker's own test: routes that break the rules, registered only in a
test URLconf (``leaky_urls.py``), are reported by the walk."""

import pytest

from .conftest import snapshot
from .routes import SPECS
from .walker import Spec, check_route, routes, unspecified

pytestmark = pytest.mark.django_db

LEAKY = "tests.security.leaky_urls"


@pytest.fixture
def leaky_routes(settings):
    settings.ROOT_URLCONF = LEAKY
    return {route.key: route for route in routes(LEAKY)}


def test_an_unscoped_api_route_is_reported(world, leaky_routes):
    findings = check_route(world, leaky_routes["leaky-api"], Spec(obj="handover"), snapshot=snapshot)
    assert any(f.startswith("leaky-api: member_of_other_team GET") and "for nothing" in f
               for f in findings), findings


def test_an_unscoped_page_is_reported(world, leaky_routes):
    findings = check_route(world, leaky_routes["leaky-page"], Spec(obj="handover"), snapshot=snapshot)
    assert any(f.startswith("leaky-page: nobody GET") for f in findings), findings


def test_a_route_that_answers_404_to_everyone_is_reported(world, leaky_routes):
    findings = check_route(world, leaky_routes["dead-page"], Spec(obj="handover"), snapshot=snapshot)
    pk = world.handover.pk
    assert findings == [f"dead-page: data_scientist GET /dead/{pk}/ answered 404, but the route promises 200",
                        "dead-page: data_scientist gets the same answer for the real object as for nothing"]


def test_a_route_without_a_spec_is_reported_even_unnamed(leaky_routes):
    missing = unspecified(list(leaky_routes.values()), SPECS)
    assert [f.split(":")[0] for f in missing] == ["leaky-api", "leaky-page", "dead-page", "forgotten/<int"]


def test_the_project_routes_pass_the_same_walk(world, leaky_routes):
    """The same walker, on a well-behaved route of the same URLconf, finds nothing."""
    route = leaky_routes["api-handover-detail"]
    assert check_route(world, route, SPECS["api-handover-detail"], snapshot=snapshot) == []
