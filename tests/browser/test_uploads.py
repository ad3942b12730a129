"""Uploading artifacts on the handover page: progress, the stored sha256, and clear refusals."""

import hashlib

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from handoff.handovers.models import Artifact
from handoff.teams.models import Role
from tests.factories import HandoverFactory, ModelFactory, ProjectFactory, RevisionFactory, member
from tests.plugins.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def empty_draft(transactional_db):
    project = ProjectFactory()
    scientist = member(project, Role.DATA_SCIENTIST, username="scientist")
    handover = HandoverFactory(model=ModelFactory(project=project, owner=scientist))
    revision = RevisionFactory(handover=handover, number=1)
    return handover, revision


def open_draft(page, handover):
    log_in(page, "scientist")
    page.goto(handover.get_absolute_url())
    page.locator("html.js-upload").wait_for(state="attached")  # upload.js is listening


def file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_each_file_shows_a_progress_bar_then_its_sha256(page, empty_draft, tmp_path):
    handover, revision = empty_draft
    open_draft(page, handover)
    contents = {"model": b"onnx-ish bytes" * 100, "predictions": b"id,prediction\n1,1\n",
                "labels": b"id,label\n1,1\n"}
    for kind, content in contents.items():
        page.locator(f"#upload-{kind}").set_input_files(file(tmp_path, f"{kind}.bin", content))
        status = page.locator(f"#upload-{kind}-status")
        expect(status.get_by_role("progressbar")).to_have_count(1)
        expect(status).to_contain_text(hashlib.sha256(content).hexdigest())
    # Screen readers were told about the last one.
    expect(page.locator("form[data-kind=labels] [data-live]")).to_have_text("Stored labels.bin.")
    expect(page.locator("#artifact-rows tr")).to_have_count(3)
    # Several "other" files in one go, each with its own bar.
    page.locator("#upload-other").set_input_files([
        file(tmp_path, "notes.txt", b"notes"), file(tmp_path, "card.md", b"# card"),
    ])
    status = page.locator("#upload-other-status")
    expect(status.get_by_role("progressbar")).to_have_count(2)
    expect(status.locator(".stored")).to_have_count(2)
    assert revision.artifacts.count() == 5
    assert page.external_requests == []


def test_empty_and_too_large_files_are_refused_with_a_message(page, empty_draft, tmp_path, settings):
    handover, revision = empty_draft
    open_draft(page, handover)

    page.locator("#upload-labels").set_input_files(file(tmp_path, "labels.csv", b""))
    alert = page.locator("#upload-labels-status").get_by_role("alert")
    expect(alert).to_contain_text("labels.csv was not stored")
    expect(alert).to_contain_text("empty")

    # The page was drawn with the 2 GiB limit; the server now holds a smaller one
    # and refuses the file as it arrives (413).
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1024
    page.locator("#upload-model").set_input_files(file(tmp_path, "model.onnx", b"x" * 4096))
    alert = page.locator("#upload-model-status").get_by_role("alert")
    expect(alert).to_contain_text("model.onnx was not stored")
    expect(alert).to_contain_text("over the limit of 1.0")

    # Drawn with the small limit, the page says so before sending anything.
    page.reload()
    page.locator("html.js-upload").wait_for(state="attached")
    expect(page.locator("#upload-limit")).to_contain_text("1.0 KB")
    sent = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    page.locator("#upload-predictions").set_input_files(file(tmp_path, "predictions.csv", b"y" * 4096))
    expect(page.locator("#upload-predictions-status").get_by_role("alert")).to_contain_text(
        "over the upload limit of 1.0 KB")
    assert sent == []

    assert not Artifact.objects.exists()
    expect(page.locator("#artifact-rows tr[data-kind]")).to_have_count(0)
    assert page.external_requests == []


def test_a_lost_connection_and_a_frozen_revision_are_explained(page, empty_draft, tmp_path):
    handover, revision = empty_draft
    open_draft(page, handover)

    page.route("**/artifacts/", lambda route: route.abort("connectionreset"))
    page.locator("#upload-labels").set_input_files(file(tmp_path, "labels.csv", b"id,label\n1,1\n"))
    expect(page.locator("#upload-labels-status").get_by_role("alert")).to_contain_text("connection")
    page.unroute("**/artifacts/")

    # Someone submitted the revision from elsewhere meanwhile: it is frozen (409).
    revision.submitted_at = timezone.now()
    revision.save()
    page.locator("#upload-model").set_input_files(file(tmp_path, "model.onnx", b"model"))
    expect(page.locator("#upload-model-status").get_by_role("alert")).to_contain_text("frozen")
    assert not Artifact.objects.exists()


def test_dragging_a_file_over_a_zone_highlights_it(page, empty_draft):
    handover, _ = empty_draft
    open_draft(page, handover)
    zone = page.locator("form[data-kind=model] [data-dropzone]")
    transfer = page.evaluate_handle("new DataTransfer()")
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    expect(zone).to_have_class("dropzone dragging")
    zone.dispatch_event("dragleave", {"dataTransfer": transfer})
    expect(zone).to_have_class("dropzone")
