"""Playwright for Python driving Debian's Chromium against the live server.

``page`` is a fresh browser context on ``live_server``; every request that
would leave the machine is blocked and recorded in ``page.external_requests``
so a test can assert that nothing came from the internet.

Every Playwright timeout is set here, explicitly and scaled by
``HANDOFF_TEST_TIMEOUT_SCALE`` (``tests.timing``), rather than left at
Playwright's defaults: launching Chromium, navigating, every other action and
every ``expect``. A launch that fails is retried once, with the first
failure's reason shown as a warning, so one slow launch on a busy machine does
not fail every browser test of the run.

Every page runs under the Content-Security-Policy, and a test fails on any
violation of it: each context records the page's ``securitypolicyviolation``
events (an init script, reporting to Python at once through a binding, so a
violation on a page navigated away from still counts) and Chromium's console
messages about the policy ("Refused to apply inline style …"). After the
test's body the violations of all its pages fail it, listed.
"""

import os
import warnings
from urllib.parse import urlsplit

import pytest

from tests.timing import scaled

from .services import chromium_path, need

# Seconds, before scaling.
LAUNCH_TIMEOUT = 60  # Chromium's start, under load; Playwright's own default is 30
NAVIGATION_TIMEOUT = 30  # goto, reload, wait_for_url: a page of the live server, its assets local
ACTION_TIMEOUT = 15  # click, fill, locator waits
EXPECT_TIMEOUT = 10  # an assertion that the page reaches a state; Playwright's own default is 5

# Playwright's sync API runs an event loop in this thread; the ORM calls a
# test makes between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

# Runs in every frame before the page's own scripts. Chromium fires
# securitypolicyviolation at the document for every blocked script, style,
# attribute, eval or request; each is kept in window.__cspViolations and told
# to Python at once.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  var seen = {
    directive: event.effectiveDirective, blocked: event.blockedURI, page: event.documentURI,
    source: (event.sourceFile || "") + ":" + event.lineNumber, sample: event.sample,
  };
  window.__cspViolations.push(seen);
  if (window.__handoffCspViolation) { window.__handoffCspViolation(seen); }
}, true);
"""
CSP_CONSOLE_MARKS = ("Content Security Policy", "Refused to")


def csp_console_message(text):
    return any(mark in text for mark in CSP_CONSOLE_MARKS)


def timeout_ms(seconds):
    """A Playwright timeout (milliseconds) for ``seconds``, scaled."""
    return scaled(seconds) * 1000


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    need(path is not None, "Chromium is needed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import Error, expect, sync_playwright

    def launch(playwright):
        return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS,
                                          timeout=timeout_ms(LAUNCH_TIMEOUT))

    expect.set_options(timeout=timeout_ms(EXPECT_TIMEOUT))
    with sync_playwright() as playwright:
        try:
            browser = launch(playwright)
        except Error as first:
            warnings.warn(f"Chromium did not launch; trying once more. First attempt: {first}")
            browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium, live_server):
    """Open a fresh browser page on the live server: a context of its own (one
    per person in a journey), with requests leaving the machine blocked."""
    contexts = []
    violations = []

    def open_():
        context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(timeout_ms(ACTION_TIMEOUT))
        context.set_default_navigation_timeout(timeout_ms(NAVIGATION_TIMEOUT))
        contexts.append(context)
        context.expose_binding(
            "__handoffCspViolation", lambda source, seen: violations.append(f"event: {seen}")
        )
        context.add_init_script(CSP_WATCH)
        context.on("console", lambda message: violations.append(
            f"console: {message.text} ({message.location.get('url', '')})"
        ) if csp_console_message(message.text) else None)
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

    open_.contexts = contexts
    open_.violations = violations
    yield open_
    for context in contexts:
        context.close()


def csp_violations(opener):
    """Every violation the pages of ``open_page`` saw: what the binding and the
    console told, and each open page's own record (asking for it also lets
    Playwright deliver the reports still on their way)."""
    from playwright.sync_api import Error

    for context in opener.contexts:
        for browser_page in context.pages:
            try:
                recorded = browser_page.evaluate("window.__cspViolations || []")
            except Error:
                continue  # closed or navigating: its reports came through the binding
            opener.violations.extend(f"event: {seen}" for seen in recorded)
    return list(dict.fromkeys(opener.violations))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a browser test whose pages violated the Content-Security-Policy;
    when the test failed anyway, list them beside its failure."""
    opener = getattr(item, "funcargs", {}).get("open_page")
    try:
        result = yield
    except BaseException:
        if opener is not None and (found := csp_violations(opener)):
            item.add_report_section("call", "Content-Security-Policy violations", "\n".join(found))
        raise
    if opener is not None and (found := csp_violations(opener)):
        pytest.fail("Content-Security-Policy violations in the browser:\n" + "\n".join(found), pytrace=False)
    return result


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
