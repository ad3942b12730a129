"""Playwright for Python driving Debian's Chromium against the live server.

``page`` is a fresh browser context on ``live_server``; every request that
would leave the machine is blocked and recorded in ``page.external_requests``
so a test can assert that nothing came from the internet.
"""

import os
from urllib.parse import urlsplit

import pytest

from .services import chromium_path, need

# Playwright's sync API runs an event loop in this thread; the ORM calls a
# test makes between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    need(path is not None, "Chromium is needed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium, live_server):
    """Open a fresh browser page on the live server: a context of its own (one
    per person in a journey), with requests leaving the machine blocked."""
    contexts = []

    def open_():
        context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        external = []

        def guard(route):
            host = urlsplit(route.request.url).hostname or ""
            if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
                route.continue_()
            else:
                external.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        browser_page = context.new_page()
        browser_page.external_requests = external
        return browser_page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page):
    return open_page()


def log_in(page, username, password="handoff-demo"):
    """Log in through the login form and land on the home page."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


@pytest.fixture
def login():
    return log_in
