"""The interactive API docs render in a real browser with nothing from the internet."""

import pytest

from handoff.teams.models import Role
from tests.factories import ProjectFactory, member

pytestmark = pytest.mark.browser


def test_api_docs_render_offline_for_a_logged_in_user(page, login):
    user = member(ProjectFactory(), Role.ML_ENGINEER, username="mel")
    login(page, user.username)

    page.goto("/api/docs/")
    # Swagger UI draws one block per operation once it has fetched the schema.
    page.locator(".opblock").first.wait_for()
    page.get_by_text("/api/v1/projects/", exact=True).first.wait_for()
    assert page.get_by_text("/api/v1/teams/{slug}/", exact=True).first.is_visible()
    assert page.get_by_text("/api/v1/auth/token/", exact=True).first.is_visible()
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Handoff API")
    assert page.external_requests == []


def test_trying_an_operation_in_the_docs_calls_the_api_with_the_session(page, login):
    project = ProjectFactory(slug="churn", name="Churn")
    user = member(project, Role.DATA_SCIENTIST, username="dana")
    login(page, user.username)

    page.goto("/api/docs/")
    operation = page.locator("#operations-projects-v1_projects_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    body = operation.locator(".live-responses-table .response-col_description pre").first
    body.wait_for()
    assert '"slug": "churn"' in body.inner_text()
    assert page.external_requests == []
