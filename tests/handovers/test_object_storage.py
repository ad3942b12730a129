"""Artifacts on an S3-compatible object store: moto's S3 server on 127.0.0.1
(a process of this module's own), with the settings a deployment gives it
(AWS_STORAGE_BUCKET_NAME and the rest, handoff/settings.py).

Files go in through the real upload path (a multipart request through the
hashing upload handler), a real worker process configured from the same
environment validates them from the bucket (scikit-learn is the oracle of the
measured metrics), and they come back out through the download endpoints,
byte for byte: the objects are in the bucket, and no folder holds a copy.
"""

import hashlib
import os
import runpy
import socket
import subprocess
import sys
import tracemalloc
from pathlib import Path

import boto3
import pytest
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.functional import empty
from rest_framework.test import APIClient

from handoff import settings as settings_module
from handoff.core.storage import ObjectStorage
from handoff.handovers import services
from handoff.handovers.models import Artifact, ArtifactKind, Handover, HandoverState
from handoff.validation.models import RunState, ValidationRun
from tests.factories import (
    ClaimedMetricFactory,
    HandoverFactory,
    ModelFactory,
    ProjectFactory,
    RevisionFactory,
    agreed_contract,
    api_token,
    member,
    ready_draft,
)
from tests.plugins.worker import assert_ran_in_worker
from tests.timing import wait_until
from tests.validation.test_worker import binary

pytestmark = [pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one:UserWarning")]

BUCKET = "handoff-artifacts"
KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_S3_REGION_NAME": "us-east-1"}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    """``python -m moto.server`` on 127.0.0.1, with one private bucket."""

    def __init__(self, folder):
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "moto.log"
        self.process = None

    def start(self):
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._answers, f"moto's S3 server on port {self.port}", timeout=30, interval=0.2,
                   detail=lambda: self.log_path.read_text())
        self.client = boto3.client("s3", endpoint_url=self.endpoint, region_name=KEYS["AWS_S3_REGION_NAME"],
                                   aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                                   aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])
        self.client.create_bucket(Bucket=BUCKET)

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError(f"moto's server exited:\n{self.log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self):
        # Its objects live in its memory and nothing is to be saved: SIGTERM would only make
        # werkzeug wait for idle connections.
        self.process.kill()
        self.process.wait()

    def env(self, prefix):
        """The deployment's variables (README, "Artifacts on an object store")."""
        return {"AWS_STORAGE_BUCKET_NAME": BUCKET, "AWS_S3_ENDPOINT_URL": self.endpoint,
                "AWS_LOCATION": prefix, **KEYS}

    def keys(self, prefix):
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{prefix}/")
        return sorted(entry["Key"] for page in pages for entry in page.get("Contents", ()))

    def read(self, key):
        return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("moto"))
    server.start()
    yield server
    server.stop()


def _settings_of(monkeypatch, env):
    """What handoff/settings.py makes of the environment ``env`` (the AWS_* variables as given,
    no others): its module globals, read anew."""
    with monkeypatch.context() as m:
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            m.delenv(name)
        for name, value in env.items():
            m.setenv(name, value)
        return runpy.run_path(str(Path(settings_module.__file__)))


@pytest.fixture
def store_in(s3, settings, monkeypatch):
    """``store_in(prefix)``: for the rest of the test, this process stores artifacts in the bucket
    under ``prefix``, with the settings handoff/settings.py makes of the deployment's variables."""

    def use(prefix):
        made = _settings_of(monkeypatch, s3.env(prefix))
        for name, value in made.items():
            if name.startswith("AWS_"):
                setattr(settings, name, value)
        # Set last: a change of STORAGES resets Django's cached storages (default_storage too).
        settings.STORAGES = made["STORAGES"]
        assert isinstance(storages["default"], ObjectStorage)
        assert default_storage._wrapped is empty  # made anew from the new STORAGES on first use
        return prefix

    return use


def _files_under(folder):
    return [os.path.join(d, f) for d, _, files in os.walk(folder) for f in files]


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def _upload(client, handover, kind, name, content):
    response = client.post(reverse("api-handover-revision-artifacts", args=[handover.pk, 1]),
                           {"kind": kind, "file": SimpleUploadedFile(name, content)}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def _download(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response.streaming
    chunks = list(response.streaming_content)
    return response, b"".join(chunks), chunks


# --- settings ----------------------------------------------------------------------------------------


def test_the_bucket_variable_selects_the_object_store_and_nothing_else_does(monkeypatch):
    local = _settings_of(monkeypatch, {})
    assert local["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    on_store = _settings_of(monkeypatch, {"AWS_STORAGE_BUCKET_NAME": "artifacts", "AWS_LOCATION": "/handoff/",
                                          "AWS_S3_ENDPOINT_URL": "http://minio:9000", **KEYS})
    assert on_store["STORAGES"]["default"]["BACKEND"] == "handoff.core.storage.ObjectStorage"
    assert on_store["STORAGES"]["staticfiles"] == local["STORAGES"]["staticfiles"]
    named = on_store["AWS_STORAGE_BUCKET_NAME"], on_store["AWS_S3_ENDPOINT_URL"], on_store["AWS_LOCATION"]
    assert named == ("artifacts", "http://minio:9000", "handoff")
    assert on_store["AWS_DEFAULT_ACL"] is None and on_store["AWS_S3_FILE_OVERWRITE"] is False
    assert on_store["AWS_S3_MAX_MEMORY_SIZE"] > 0  # django-storages' default, 0, would keep reads in memory
    assert {name for name in local if name.startswith("AWS_")} == {"AWS_STORAGE_BUCKET_NAME"}


# --- the round trip, with a real worker ------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_worker(s3, start_own_worker, tmp_path_factory):
    """A worker whose settings come from the deployment's variables, under the prefix ``worker``
    (the test process uses the same prefix while it runs), and whose temporary copies go to a
    folder the test can look into."""
    copies = tmp_path_factory.mktemp("worker-copies")
    handle = start_own_worker("s3", {**s3.env("worker"), "FILE_UPLOAD_TEMP_DIR": str(copies)})
    handle.copies = copies
    return handle


@pytest.mark.worker
def test_artifacts_round_trip_through_the_bucket_and_a_real_worker(s3, s3_worker, send_tasks_to, settings,
                                                                    store_in):
    store_in("worker")  # the worker's prefix: both sides name the same keys
    send_tasks_to(s3_worker)
    case = binary()
    project = ProjectFactory()
    owner = member(project, "data_scientist")
    handover = HandoverFactory(model=ModelFactory(project=project, owner=owner))
    revision = RevisionFactory(handover=handover, number=1, task_type=case["task"],
                               framework=case["framework"], parameter_count=case["parameters"],
                               validation_row_count=None, latency_p95_ms=None, peak_memory_mb=None)
    for metric, value in case["metrics"].items():
        ClaimedMetricFactory(revision=revision, metric=metric, claimed_value=round(value, 3), minimum=None)
    model_name, model_bytes = case["model"]
    uploads = {ArtifactKind.MODEL: (model_name, model_bytes),
               ArtifactKind.PREDICTIONS: ("predictions.csv", case["predictions"]),
               ArtifactKind.LABELS: ("labels.csv", case["labels"])}
    client = _api(owner)
    for kind, (name, content) in uploads.items():
        stored = _upload(client, handover, kind, name, content)
        assert stored["sha256"] == hashlib.sha256(content).hexdigest()

    # In the bucket, under the prefix, each with the sha256 computed at upload; in no folder.
    artifacts = {a.kind: a for a in Artifact.objects.filter(revision=revision)}
    keys = s3.keys("worker")
    for kind, (_, content) in uploads.items():
        key = f"worker/{artifacts[kind].file.name}"
        assert key in keys, (key, keys)
        assert s3.read(key) == content
        head = s3.client.head_object(Bucket=BUCKET, Key=key)
        assert head["Metadata"]["sha256"] == artifacts[kind].sha256 == hashlib.sha256(content).hexdigest()
    assert _files_under(settings.MEDIA_ROOT) == [] and _files_under(s3_worker.media_root) == []

    # Validated by the worker, reading the objects from the bucket.
    services.submit_revision(owner, revision)
    run = wait_until(lambda: ValidationRun.objects.filter(revision=revision, state__in=[
        RunState.PASSED, RunState.FAILED, RunState.ERROR]).first(), "the worker to validate the revision",
        timeout=90, detail=s3_worker.log)
    assert_ran_in_worker({"hostname": run.worker, "pid": run.worker_pid}, s3_worker)
    checks = {check.key: check for check in run.checks.all()}
    failing = {key: c.message for key, c in checks.items() if c.status in ("fail", "error")}
    assert run.state == RunState.PASSED, (failing, run.message, s3_worker.log()[-3000:])
    for metric, expected in case["metrics"].items():
        assert checks[f"metric.{metric}"].measured == pytest.approx(expected, abs=1e-9), metric
    assert checks["model.parameters"].measured == case["parameters"]
    assert checks["integrity"].status == "pass", checks["integrity"].message
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.AWAITING_REVIEW
    assert _files_under(s3_worker.copies) == []  # the worker's temporary copies are gone
    assert _files_under(s3_worker.media_root) == []

    # Out through the API and the page, streamed, byte for byte.
    for kind, (name, content) in uploads.items():
        artifact = artifacts[kind]
        response, body, chunks = _download(client, f"/api/v1/artifacts/{artifact.pk}/download/")
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(content).hexdigest()
        assert response["X-Content-SHA256"] == artifact.sha256
        assert int(response["Content-Length"]) == len(content)
        assert name in response["Content-Disposition"]
    page = _api(owner)
    page.force_login(owner)
    _, body, _ = _download(page, reverse("handovers:download_artifact",
                                         args=[handover.pk, artifacts[ArtifactKind.MODEL].pk]))
    assert body == model_bytes


# --- in this process (tasks eager) -------------------------------------------------------------------------


def test_a_large_upload_is_stored_in_parts_and_downloaded_in_chunks(s3, store_in, project, scientist):
    prefix = store_in("large")
    handover, _ = ready_draft(project=project, owner=scientist)
    content = os.urandom(20 * 1024 * 1024 + 123)  # over the 8 MiB part size: a multipart upload
    client = _api(scientist)
    stored = _upload(client, handover, "other", "big.bin", content)
    artifact = Artifact.objects.get(pk=stored["id"])
    head = s3.client.head_object(Bucket=BUCKET, Key=f"{prefix}/{artifact.file.name}")
    assert head["ContentLength"] == len(content)
    assert head["ETag"].strip('"').endswith("-3")  # three parts, so never one body in memory
    del content

    # Downloaded as it streams: the response never holds more than a chunk or two of it
    # (django-storages' own S3File would first fetch the whole object into memory).
    tracemalloc.start()
    try:
        response = client.get(f"/api/v1/artifacts/{artifact.pk}/download/")
        assert response.status_code == 200 and response.streaming
        digest, chunks = hashlib.sha256(), 0
        for chunk in response.streaming_content:
            digest.update(chunk)
            chunks += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == artifact.sha256 == response["X-Content-SHA256"]
    assert int(response["Content-Length"]) == artifact.size and chunks >= 20
    assert peak < 4 * 1024 * 1024, f"the download held {peak / 1024**2:.1f} MiB at once"


def test_an_object_missing_from_the_bucket_fails_the_integrity_check(s3, store_in, db,
                                                                      django_capture_on_commit_callbacks):
    prefix = store_in("missing")
    handover, revision = ready_draft()
    labels = revision.artifacts.get(kind=ArtifactKind.LABELS)
    s3.client.delete_object(Bucket=BUCKET, Key=f"{prefix}/{labels.file.name}")
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_revision(handover.owner, revision)
    run = ValidationRun.objects.get(revision=revision)
    integrity = run.checks.get(key="integrity")
    assert run.state == RunState.FAILED
    assert integrity.status in ("fail", "error"), integrity.message
    assert labels.original_name in integrity.message, integrity.message


def test_a_removed_artifact_leaves_the_bucket(s3, store_in, project, scientist,
                                              django_capture_on_commit_callbacks):
    prefix = store_in("removed")
    _, revision = ready_draft(project=project, owner=scientist)
    artifact = revision.artifacts.get(kind=ArtifactKind.PREDICTIONS)
    key = f"{prefix}/{artifact.file.name}"
    assert key in s3.keys(prefix)
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_artifact(scientist, artifact)
    assert key not in s3.keys(prefix)


def test_a_blind_contracts_labels_come_from_the_bucket_to_readers_only(s3, store_in, project, scientist,
                                                                        engineer):
    prefix = store_in("contracts")
    contract = agreed_contract(project, scientist, engineer, labels_blind=True)
    labels = contract.artifacts.get(kind="labels")
    key = f"{prefix}/{labels.file.name}"
    assert key in s3.keys(prefix) and hashlib.sha256(s3.read(key)).hexdigest() == labels.sha256
    api = f"/api/v1/contracts/{contract.pk}/artifacts/{labels.pk}/download/"
    page = reverse("contracts:download_file", args=[contract.pk, labels.pk])

    hidden = _api(scientist)
    hidden.force_login(scientist)
    assert (hidden.get(api).status_code, hidden.get(page).status_code) == (404, 404)
    reader = _api(engineer)
    reader.force_login(engineer)
    for url in (api, page):
        response, body, _ = _download(reader, url)
        assert hashlib.sha256(body).hexdigest() == labels.sha256 == response["X-Content-SHA256"]
