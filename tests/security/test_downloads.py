"""Uploads are stored inside MEDIA_ROOT under names we choose, never run or
unpickled; downloads are attachments of an inert type whatever the file is
called."""

import os
import pickle
from pathlib import Path

import pytest
from django.conf import settings

from handoff.handovers.models import Artifact, ArtifactKind

from .conftest import logged_in

pytestmark = pytest.mark.django_db

ODD_NAMES = [
    'quote"d.onnx',
    "back\\slash.onnx",
    "semi;colon; filename=evil.sh",
    "new\nline\r\nX-Injected: yes.onnx",
    "tab\there.onnx",
    "ünïcødé-模型.onnx",
    "..",
    "../../../../etc/passwd",
    "C:\\Windows\\system32\\evil.dll",
    "<img src=x onerror=alert(1)>.html",
    "\u202eexe.onnx",
    "a" * 400 + ".onnx",
]


BOUNDARY = "----handoff-security-boundary"


def _upload(client, world, name, content=b"model bytes", kind="model"):
    """A multipart upload whose file name header carries ``name`` as a
    browser would (quotes and backslashes escaped, other bytes as they are)."""
    header_name = name.replace("\\", "\\\\").replace('"', '\\"')
    body = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{header_name}\"\r\n"
        f"Content-Type: text/html\r\n\r\n"
    ).encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()
    return client.generic(
        "POST", f"/handovers/{world.handover.pk}/artifacts/", body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}", HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )


def _downloads(client, world, artifact):
    return (
        client.get(f"/handovers/{world.handover.pk}/files/{artifact.pk}/"),
        client.get(f"/api/v1/artifacts/{artifact.pk}/download/"),
    )


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_file_names_are_stored_inside_media_and_downloaded_as_attachments(world, name):
    client = logged_in(world.people["data_scientist"])
    response = _upload(client, world, name, content=b"<html><script>alert(1)</script></html>")
    if name == "..":
        # Django's multipart parser drops a file with no usable name: a clear refusal.
        assert response.status_code == 400
        assert Artifact.objects.get(revision=world.draft, kind=ArtifactKind.MODEL).pk == world.artifact.pk
        return
    assert response.status_code == 200, response.content
    artifact = Artifact.objects.get(revision=world.draft, kind=ArtifactKind.MODEL)
    stored = Path(artifact.file.path).resolve()
    media = Path(settings.MEDIA_ROOT).resolve()
    assert stored.is_relative_to(media / "artifacts")
    assert "/" not in artifact.original_name and "\\" not in artifact.original_name
    assert artifact.original_name.isprintable() and artifact.original_name not in ("", ".", "..")

    reader = logged_in(world.people["ml_engineer"])
    for download in _downloads(reader, world, artifact):
        assert download.status_code == 200
        disposition = download["Content-Disposition"]
        assert disposition.startswith("attachment; ")
        assert "\n" not in disposition and "\r" not in disposition
        assert "X-Injected" not in download.headers or download.headers.get("X-Injected") is None
        assert download["Content-Type"] == "application/octet-stream"
        assert download["X-Content-Type-Options"] == "nosniff"
        assert b"".join(download.streaming_content) == b"<html><script>alert(1)</script></html>"


def test_a_quote_in_a_file_name_cannot_end_the_header_value(world):
    client = logged_in(world.people["data_scientist"])
    _upload(client, world, 'x"; filename="evil.html')
    artifact = Artifact.objects.get(revision=world.draft, kind=ArtifactKind.MODEL)
    page, api = _downloads(client, world, artifact)
    for download in (page, api):
        disposition = download["Content-Disposition"]
        # Django escapes the quote: the header names one file, the one we stored.
        assert disposition == 'attachment; filename="x\\"; filename=\\"evil.html"', disposition


def test_a_unicode_file_name_is_sent_encoded(world):
    client = logged_in(world.people["data_scientist"])
    _upload(client, world, "模型.onnx")
    artifact = Artifact.objects.get(revision=world.draft, kind=ArtifactKind.MODEL)
    for download in _downloads(client, world, artifact):
        assert download["Content-Disposition"] == "attachment; filename*=utf-8''%E6%A8%A1%E5%9E%8B.onnx"


class _Boom:
    """A pickle that, once loaded, leaves a file behind."""

    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickled_model_is_stored_and_validated_without_being_loaded(world, tmp_path):
    marker = tmp_path / "unpickled"
    boom = _Boom()
    boom.marker = str(marker)
    payload = pickle.dumps(boom)
    client = logged_in(world.people["data_scientist"])
    for name in ("model.pkl", "model.joblib", "model.pt", "model.onnx"):
        assert _upload(client, world, name, content=payload).status_code == 200
    response = client.post(f"/handovers/{world.handover.pk}/submit/")
    assert response.status_code == 302
    world.handover.refresh_from_db()
    assert world.handover.state != "draft"  # validation ran (in-process in tests)
    assert not marker.exists(), "an uploaded model file was unpickled"


def test_downloads_of_another_handovers_artifact_are_404(world):
    """The page route checks that the artifact belongs to the handover in the URL."""
    client = logged_in(world.people["member_of_other_team"])
    assert client.get(f"/handovers/{world.gamma_handover.pk}/files/{world.artifact.pk}/").status_code == 404
    assert client.get(f"/api/v1/artifacts/{world.artifact.pk}/download/").status_code == 404
