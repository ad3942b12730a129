"""Nothing typed by a person runs in another person's browser: Markdown is
sanitised, and names, labels, file names and messages are escaped wherever a
page or a partial shows them."""

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from handoff.handovers.markdown import render_markdown
from handoff.handovers.models import Artifact, Review, Revision

from .conftest import logged_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('xss')</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"{SCRIPT}{IMG}"

MARKDOWN_ATTACKS = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java&#9;script:alert(1))",
    "[click](<java\nscript:alert(1)>)",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="&#x6A;avascript:alert(1)">click</a>',
    '<a href="data:text/html,<script>alert(1)</script>">click</a>',
    "![image](javascript:alert(1))",
    "![image](x){: onerror=alert(1) }",
    "[link](http://example.org){: onclick=alert(1) }",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<script>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "<iframe src=https://evil.example/></iframe>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<details open ontoggle=alert(1)>x</details>",
    "<form action=https://evil.example/><button>go</button></form>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<abbr title='\"><script>alert(1)</script>'>x</abbr>",
    "<http://example.org/\"onmouseover=alert(1)>",
]
FORBIDDEN_IN_HTML = ("<script", "javascript:", "data:", "vbscript:", "onerror", "onload", "onclick",
                     "onmouseover=", "ontoggle", "<img", "<svg", "<iframe", "<form", "style=", "<math")


@pytest.mark.parametrize("text", MARKDOWN_ATTACKS)
def test_markdown_keeps_nothing_that_runs(text):
    html = str(render_markdown(text)).lower()
    for bad in FORBIDDEN_IN_HTML:
        if bad == "onmouseover=" and "&quot;onmouseover=" in html:
            continue  # inside an escaped href value, not an attribute
        assert bad not in html, (text, html)


def test_markdown_links_keep_working_and_cannot_reach_the_opener():
    html = str(render_markdown("[docs](https://example.org/docs) and <mailto:ml@example.org>"))
    assert 'href="https://example.org/docs"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.fixture
def poisoned(world):
    """Every free-text field of Churn Alpha's handover holds a script."""
    scientist = world.people["data_scientist"]
    scientist.first_name, scientist.last_name = SCRIPT, IMG
    scientist.save()
    world.model.name = f"m{PAYLOAD}"
    world.model.save()
    world.handover.version_label = f"1{PAYLOAD}"
    world.handover.save()
    body = "\n\n".join(MARKDOWN_ATTACKS)
    Revision.objects.filter(handover=world.handover).update(
        intended_use=body, limitations=body, framework_version=IMG,
        validation_description=PAYLOAD, fairness_slice_column=IMG,
    )
    Artifact.objects.filter(revision__handover=world.handover).update(original_name=f"{IMG}.onnx")
    Review.objects.filter(revision__handover=world.handover).update(comment=body)
    world.handover.comments.update(body=body)
    world.project.name, world.project.description = f"P{IMG}", PAYLOAD
    world.project.save()
    world.team.name = f"T{IMG}"
    world.team.save()
    return world


class _ActiveContent(HTMLParser):
    """Collects what could run: scripts (but the app's own files), event
    handler attributes, script URLs, and tags that load or run things."""

    RISKY_TAGS = {"img", "svg", "iframe", "object", "embed", "math", "base", "meta", "style"}
    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "hx-get", "hx-post"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            self.found.append(("inline script", attrs))
        if tag in self.RISKY_TAGS and not (tag == "meta" and set(attrs) <= {"charset", "name", "content"}):
            self.found.append((tag, attrs))
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append((f"{tag} {name}", value))
            if name in self.URL_ATTRIBUTES and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    self.found.append((f"{tag} {name}", value))
            if name == "style" and tag != "progress":
                self.found.append((f"{tag} style", value))


def _assert_inert(html, where):
    parser = _ActiveContent()
    parser.feed(html)
    assert parser.found == [], where


def test_handover_pages_show_every_typed_text_as_text(poisoned):
    world = poisoned
    client = logged_in(world.people["data_scientist"])
    pk = world.handover.pk
    pages = [
        f"/handovers/{pk}/", f"/handovers/{pk}/?revision=1", f"/handovers/{pk}/diff/?from=1&to=2",
        f"/handovers/{pk}/edit/", f"/handovers/{pk}/state/", "/handovers/", "/handovers/mine/", "/",
        f"/projects/{world.project.slug}/", f"/teams/{world.team.slug}/", "/handovers/new/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_inert(response.content.decode(), url)
    detail = client.get(f"/handovers/{pk}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in detail  # shown, as text


def test_review_queue_and_team_leader_pages_escape_names(poisoned):
    world = poisoned
    world.handover.state = "awaiting_review"
    world.handover.save()
    html = logged_in(world.people["ml_engineer"]).get("/handovers/review-queue/").content.decode()
    # The poisoned owner's name and model name are listed, as text and never as tags.
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert SCRIPT not in html and IMG not in html
    _assert_inert(html, "review queue")
    html = logged_in(world.people["team_leader"]).get(f"/projects/{world.project.slug}/").content.decode()
    _assert_inert(html, "project page as leader")


def test_messages_naming_a_person_are_escaped(poisoned):
    world = poisoned
    leader = logged_in(world.people["team_leader"])
    evil = world.people["nobody"]
    evil.first_name = SCRIPT
    evil.save()
    response = leader.post(f"/projects/{world.project.slug}/members/",
                           {"username": evil.username, "role": "data_engineer"}, follow=True)
    assert response.status_code == 200
    _assert_inert(response.content.decode(), "member added message")
    response = leader.post(f"/projects/{world.project.slug}/members/",
                           {"username": SCRIPT, "role": "data_engineer"})
    _assert_inert(response.content.decode(), "unknown user message")


def test_an_uploaded_file_name_is_escaped_in_the_row_sent_to_the_page(world):
    client = logged_in(world.people["data_scientist"])
    response = client.post(
        f"/handovers/{world.handover.pk}/artifacts/",
        {"kind": "model", "file": SimpleUploadedFile(f"{IMG}.onnx", b"bytes")},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 200
    _assert_inert(response.content.decode(), "upload row")
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.onnx" in response.content.decode()


def test_an_upload_refusal_is_plain_text_for_the_page_to_show_as_text(world, settings):
    settings.HANDOFF_MAX_UPLOAD_BYTES = 4
    client = logged_in(world.people["data_scientist"])
    response = client.post(
        f"/handovers/{world.handover.pk}/artifacts/",
        {"kind": "model", "file": SimpleUploadedFile(f"{SCRIPT}.onnx", b"too many bytes")},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")


def test_upload_script_puts_server_text_in_the_page_only_as_text():
    """upload.js shows messages with textContent; the one innerHTML parses the
    server-rendered (escaped) row inside an inert <template>."""
    source = (Path(settings.BASE_DIR) / "static" / "js" / "upload.js").read_text()
    assignments = [line.strip() for line in source.splitlines() if "innerHTML" in line or "outerHTML" in line
                   or "insertAdjacentHTML" in line or "document.write" in line]
    assert assignments == ["template.innerHTML = html.trim();"]
