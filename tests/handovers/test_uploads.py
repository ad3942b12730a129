import hashlib
import io
import os

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from handoff.core.errors import Conflict, DomainError
from handoff.handovers import services
from handoff.handovers.models import Artifact
from handoff.handovers.uploads import FileTooLarge, HashedUploadedFile, sanitize_file_name
from tests.factories import api_token


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
        return client

    return make


def upload_url(handover, number=1):
    return reverse("api-handover-revision-artifacts", args=[handover.pk, number])


def stored_files(settings):
    root = settings.MEDIA_ROOT
    return (
        sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)
        if os.path.exists(root)
        else []
    )


# --- the service, for files that did not come through the handler -----------------------------------------


def test_sha256_and_size_match_hashlib(draft, scientist):
    _, revision = draft
    content = os.urandom(300_000)
    artifact = services.attach_artifact(
        scientist, revision, kind="model", uploaded_file=SimpleUploadedFile("model.onnx", content)
    )
    assert artifact.sha256 == hashlib.sha256(content).hexdigest()
    assert artifact.size == len(content)
    with artifact.file.open("rb") as f:
        assert f.read() == content
    assert artifact.file.name.startswith(
        f"artifacts/{revision.handover.project_id}/{revision.handover_id}/r1/model/"
    )


def test_empty_file_is_refused_and_nothing_stored(draft, scientist, settings):
    _, revision = draft
    before = stored_files(settings)
    with pytest.raises(DomainError, match="empty") as exc:
        services.attach_artifact(
            scientist, revision, kind="sample_input", uploaded_file=SimpleUploadedFile("x.csv", b"")
        )
    assert exc.value.field == "file"
    assert not revision.artifacts.filter(kind="sample_input").exists()
    assert stored_files(settings) == before


def test_file_over_the_limit_is_refused_by_the_service(draft, scientist, settings):
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1000
    _, revision = draft
    before = stored_files(settings)
    with pytest.raises(FileTooLarge, match="over the limit of 1000"):
        services.attach_artifact(
            scientist, revision, kind="model", uploaded_file=SimpleUploadedFile("m.onnx", b"x" * 1001)
        )
    assert stored_files(settings) == before


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\dana\\model.onnx", "model.onnx"),
        ("/abs/path/preds.csv", "preds.csv"),
        ("..", "upload"),
        ("bad\x00name\n.csv", "badname.csv"),
        ("", "upload"),
    ],
)
def test_file_names_are_sanitised(given, kept):
    assert sanitize_file_name(given) == kept


def test_path_laden_name_is_sanitised_when_stored(draft, scientist, settings):
    _, revision = draft
    artifact = services.attach_artifact(
        scientist, revision, kind="other", uploaded_file=SimpleUploadedFile("../../etc/passwd", b"root")
    )
    assert artifact.original_name == "passwd"
    assert ".." not in artifact.file.name
    assert os.path.realpath(default_storage.path(artifact.file.name)).startswith(
        os.path.realpath(settings.MEDIA_ROOT)
    )


def test_replacing_the_same_kind_on_a_draft(draft, scientist, django_capture_on_commit_callbacks):
    _, revision = draft
    old = revision.artifacts.get(kind="predictions")
    with django_capture_on_commit_callbacks(execute=True):
        new = services.attach_artifact(
            scientist,
            revision,
            kind="predictions",
            uploaded_file=SimpleUploadedFile("p.csv", b"id,prediction\n1,1\n"),
        )
    assert list(revision.artifacts.filter(kind="predictions")) == [new]
    assert not Artifact.objects.filter(pk=old.pk).exists()
    assert not default_storage.exists(old.file.name)  # nobody else held it
    # "other" may hold several files.
    services.attach_artifact(
        scientist, revision, kind="other", uploaded_file=SimpleUploadedFile("a.txt", b"a")
    )
    services.attach_artifact(
        scientist, revision, kind="other", uploaded_file=SimpleUploadedFile("b.txt", b"b")
    )
    assert revision.artifacts.filter(kind="other").count() == 2


def test_refused_on_a_frozen_revision(draft, scientist, settings, django_capture_on_commit_callbacks):
    _, revision = draft
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_revision(scientist, revision)
    before = stored_files(settings)
    with pytest.raises(Conflict, match="frozen"):
        services.attach_artifact(
            scientist, revision, kind="model", uploaded_file=SimpleUploadedFile("m.onnx", b"new model")
        )
    assert stored_files(settings) == before
    assert revision.artifacts.count() == 3


def test_unknown_kind_is_refused(draft, scientist):
    _, revision = draft
    with pytest.raises(DomainError) as exc:
        services.attach_artifact(
            scientist, revision, kind="weights", uploaded_file=SimpleUploadedFile("w", b"w")
        )
    assert exc.value.field == "kind"


# --- through the streaming handler (a real multipart request) ---------------------------------------------


def test_upload_streams_through_the_hashing_handler(draft, scientist, client_for, monkeypatch):
    handover, revision = draft
    seen = {}
    original = services.attach_artifact

    def spy(actor, revision, *, kind, uploaded_file):
        seen["type"] = type(uploaded_file)
        seen["temporary"] = uploaded_file.temporary_file_path()
        return original(actor, revision, kind=kind, uploaded_file=uploaded_file)

    monkeypatch.setattr(services, "attach_artifact", spy)
    content = os.urandom(3 * 1024 * 1024 + 17)
    response = client_for(scientist).post(
        upload_url(handover),
        {"kind": "model", "file": SimpleUploadedFile("m.onnx", content)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert seen["type"] is HashedUploadedFile
    body = response.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest() and body["size"] == len(content)
    assert not os.path.exists(seen["temporary"])  # moved into storage, not copied and left behind


def test_over_limit_upload_is_dropped_while_streaming(draft, scientist, client_for, settings):
    settings.HANDOFF_MAX_UPLOAD_BYTES = 64 * 1024
    handover, revision = draft
    before = stored_files(settings)
    response = client_for(scientist).post(
        upload_url(handover),
        {"kind": "model", "file": SimpleUploadedFile("m.onnx", b"x" * (200 * 1024))},
        format="multipart",
    )
    assert response.status_code == 413
    assert response.json()["file"] == ["The file is over the limit of 64.0\xa0KB."]
    assert stored_files(settings) == before
    model = revision.artifacts.get(kind="model")
    assert model.size < 64 * 1024 and model.original_name == "model.onnx"  # the factory's file is untouched


def test_empty_upload_is_refused_with_a_message(draft, scientist, client_for):
    handover, _ = draft
    response = client_for(scientist).post(
        upload_url(handover), {"kind": "labels", "file": io.BytesIO(b"")}, format="multipart"
    )
    assert response.status_code == 400
    assert "empty" in " ".join(response.json().get("file", [response.json().get("detail", "")]))


def test_path_laden_name_is_sanitised_through_the_api(draft, scientist, client_for):
    handover, _ = draft
    response = client_for(scientist).post(
        upload_url(handover),
        {"kind": "other", "file": SimpleUploadedFile("..\\..\\windows\\evil.dll", b"MZ")},
        format="multipart",
    )
    assert response.status_code == 201
    assert response.json()["original_name"] == "evil.dll"
