"""Upload memory benchmark: stream a large artifact through the real API.

Starts gunicorn (one worker) on a temporary database and MEDIA_ROOT, creates a
data scientist, a project and a draft handover, streams a file (1 GiB by
default) through ``POST /api/v1/handovers/{id}/revisions/1/artifacts/`` from a
generator with http.client, downloads it again through
``GET /api/v1/artifacts/{id}/download/``, and prints the web worker's peak RSS
(VmHWM, and the highest RSS psutil sampled) during each, the growth, the time
and the throughput, next to a reference: writing and hashing the same bytes to
a file in this process.

It does so for the local folder and for an S3-compatible object store (moto's
server on 127.0.0.1, a process of its own whose memory is not counted: moto
keeps objects in memory), side by side:

    .venv/bin/python benchmarks/upload_memory.py [--size-mb 1024] [--chunk-kb 1024] [--storage both]

Uses SQLite unless DATABASE_URL is set. Target: growth < 100 MB.
"""

import argparse
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BOUNDARY = "----handoff-benchmark-boundary"

SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from accounts.services import create_api_token
from handoff.handovers import services
from handoff.teams.models import Project, Role, RoleAssignment, Team

User = get_user_model()
dana = User.objects.create_user("bench-dana", password="bench-password")
lead = User.objects.create_user("bench-lead", password="bench-password")
team = Team.objects.create(name="Bench", slug="bench", leader=lead)
project = Project.objects.create(team=team, name="Bench", slug="bench")
RoleAssignment.objects.create(user=dana, project=project, role=Role.DATA_SCIENTIST)
model = services.create_model(dana, project, name="bench-model")
handover = services.create_handover(dana, model, version_label="1.0.0")
print(create_api_token(dana, name="benchmark")[1], handover.pk)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_hwm_mb(pid):
    """Peak resident set size of a process (VmHWM), in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def rss_mb(pid):
    return psutil.Process(pid).memory_info().rss / 1024**2


def reset_peak(pid):
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs); False if not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def blocks(size, chunk):
    """Deterministic, incompressible-looking bytes, produced on the fly."""
    seed = hashlib.sha256(b"handoff").digest()
    block = (seed * (chunk // len(seed) + 1))[:chunk]
    sent = 0
    n = 0
    while sent < size:
        n += 1
        piece = n.to_bytes(8, "big") + block[8:]
        piece = piece[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece


def multipart_parts(size, kind="model"):
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big-model.onnx\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail, len(head) + size + len(tail)


def wait_for(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # /health/ pings the worker (2 s when embedded): any answer, 503 included, means up.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/health/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def request(port, method, path, token, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(method, path, body=body, headers={"Authorization": f"Token {token}", **(headers or {})})
    response = conn.getresponse()
    return response.status, response.read()


def upload(port, token, handover_id, kind, size, chunk):
    """Stream ``size`` bytes as the ``kind`` artifact of revision 1. -> (the API's answer, sha256 sent)"""
    head, tail, length = multipart_parts(size, kind)
    client_hash = hashlib.sha256()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    conn.putrequest("POST", f"/api/v1/handovers/{handover_id}/revisions/1/artifacts/")
    conn.putheader("Authorization", f"Token {token}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    conn.send(head)
    for piece in blocks(size, chunk):
        client_hash.update(piece)
        conn.send(piece)
    conn.send(tail)
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 201, (response.status, body)
    assert body["sha256"] == client_hash.hexdigest(), "sha256 mismatch"
    assert body["size"] == size
    return body, client_hash.hexdigest()


class PeakSampler:
    """The highest RSS psutil sees of a process, sampled every 20 ms in a thread (a cross-check
    of VmHWM, and the only figure where clear_refs is not allowed)."""

    def __init__(self, pid):
        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while self.running:
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()

    @property
    def peak_mb(self):
        return self.peak / 1024**2


class S3Server:
    """moto's S3 server on 127.0.0.1 with one bucket: an S3-compatible store for the web process.
    moto keeps objects in its own memory; that is moto's RSS, not the web process's."""

    def __init__(self, folder):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(folder / "moto.log", "w")  # noqa: SIM115 - closed in stop()
        command = [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        self.env = {"AWS_STORAGE_BUCKET_NAME": "handoff-bench", "AWS_S3_ENDPOINT_URL": self.endpoint,
                    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                    "AWS_S3_REGION_NAME": "us-east-1", "AWS_LOCATION": "artifacts"}
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.2)
        import boto3

        boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="bench",
                     aws_secret_access_key="bench").create_bucket(Bucket="handoff-bench")

    def stop(self):
        self.process.kill()  # nothing of it is kept; SIGTERM would wait for idle connections
        self.process.wait()
        self.log.close()


def measure(storage, size, chunk, tmp):
    """Upload ``size`` bytes to a fresh gunicorn on ``storage`` ("local" or "s3"), then download
    them again; the web worker's memory during each."""
    tmp = tmp / storage
    (tmp / "uploads").mkdir(parents=True)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
        "DEBUG": "1",
        "MEDIA_ROOT": str(tmp / "media"),
        "FILE_UPLOAD_TEMP_DIR": str(tmp / "uploads"),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}",
        "HANDOFF_MAX_UPLOAD_BYTES": str(max(size + 1024**2, 2 * 1024**3)),
        "DJANGO_SETTINGS_MODULE": "handoff.settings",
        "LOG_LEVEL": "WARNING",
        # As measured before gunicorn.conf.py: one sync worker, never recycled.
        "GUNICORN_THREADS": "1",
        "GUNICORN_MAX_REQUESTS": "0",
    }
    env.pop("REDIS_URL", None)  # embedded: no broker needed for an upload
    store = S3Server(tmp) if storage == "s3" else None
    if store is not None:
        env.update(store.env)
    server = None
    try:
        migrate = [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"]
        subprocess.run(migrate, cwd=ROOT, env=env, check=True)
        token, handover_id = subprocess.run(
            [PYTHON, "-c", SETUP], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.split()

        port = free_port()
        gunicorn = Path(PYTHON).with_name("gunicorn")
        server = subprocess.Popen(
            [str(gunicorn), "handoff.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "900",
             "--log-level", "warning"],
            cwd=ROOT, env=env,
        )
        wait_for(port)
        worker = psutil.Process(server.pid).children()[0].pid
        # Warm up: import the API, serializers and handlers, and store a small file (a multipart
        # upload of two parts on S3: botocore's client and its S3 model, loaded once per process),
        # so the figures are those of a web process that has served before.
        status, _ = request(port, "GET", f"/api/v1/handovers/{handover_id}/", token)
        assert status == 200, status
        upload(port, token, handover_id, "sample_input", 9 * 1024**2, chunk)
        peak_reset = reset_peak(worker)
        before_hwm, before_rss = vm_hwm_mb(worker), rss_mb(worker)

        with PeakSampler(worker) as upload_sampler:
            started = time.perf_counter()
            body, client_sha256 = upload(port, token, handover_id, "model", size, chunk)
            elapsed = time.perf_counter() - started
        after_hwm, after_rss = vm_hwm_mb(worker), rss_mb(worker)
        stored_locally = sum(f.stat().st_size for f in (tmp / "media").rglob("*") if f.is_file()) \
            if (tmp / "media").exists() else 0
        if store is not None:
            assert stored_locally == 0, "the object store was configured, yet the file is in MEDIA_ROOT"

        # The download, streamed back and hashed as it arrives.
        reset_peak(worker)
        before_download = vm_hwm_mb(worker)
        download_hash = hashlib.sha256()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        with PeakSampler(worker) as download_sampler:
            started = time.perf_counter()
            conn.request("GET", f"/api/v1/artifacts/{body['id']}/download/",
                         headers={"Authorization": f"Token {token}"})
            response = conn.getresponse()
            assert response.status == 200, response.status
            while piece := response.read(chunk):
                download_hash.update(piece)
            download_elapsed = time.perf_counter() - started
        assert download_hash.hexdigest() == client_sha256, "the download differs from the upload"
        after_download = vm_hwm_mb(worker)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if store is not None:
            store.stop()
    return {
        "peak_reset": peak_reset, "before_hwm": before_hwm, "after_hwm": after_hwm,
        "growth": after_hwm - before_hwm, "before_rss": before_rss, "after_rss": after_rss,
        "sampled_upload": upload_sampler.peak_mb, "elapsed": elapsed,
        "download_growth": after_download - before_download, "sampled_download": download_sampler.peak_mb,
        "download_elapsed": download_elapsed, "sha256": client_sha256,
        "database": env["DATABASE_URL"].split(":", 1)[0],
    }


def reference_seconds(size, chunk, tmp):
    """The least any server must do with the same bytes: write them to a file and hash them."""
    ref_hash = hashlib.sha256()
    started = time.perf_counter()
    with open(tmp / "reference.bin", "wb") as out:
        for piece in blocks(size, chunk):
            ref_hash.update(piece)
            out.write(piece)
        out.flush()
        os.fsync(out.fileno())
    seconds = time.perf_counter() - started
    (tmp / "reference.bin").unlink()
    return seconds, ref_hash.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--chunk-kb", type=int, default=1024)
    parser.add_argument("--storage", choices=["local", "s3", "both"], default="both",
                        help="the local folder, an S3-compatible server (moto on 127.0.0.1), or both")
    args = parser.parse_args()
    size = args.size_mb * 1024**2
    chunk = args.chunk_kb * 1024
    storages = ["local", "s3"] if args.storage == "both" else [args.storage]

    with tempfile.TemporaryDirectory(prefix="handoff-bench-") as tmp:
        tmp = Path(tmp)
        figures = {storage: measure(storage, size, chunk, tmp) for storage in storages}
        reference, ref_sha256 = reference_seconds(size, chunk, tmp)
    assert all(f["sha256"] == ref_sha256 for f in figures.values())

    mib = size / 1024**2
    names = {"local": "local folder", "s3": "S3 (moto)"}

    def row(label, show):
        return (label, *(show(figures[storage]) for storage in storages))

    def growth(value):
        return f"{value:,.1f} MB ({'OK' if value < 100 else 'OVER'})"

    def rate(seconds):
        return f"{seconds:,.2f} s ({mib / seconds:,.0f} MiB/s)"

    rows = [
        ("storage", *(names[storage] for storage in storages)),
        row("file size", lambda f: f"{mib:,.0f} MiB"),
        row("chunk sent", lambda f: f"{chunk // 1024} KiB"),
        row("database", lambda f: f["database"]),
        row("worker peak RSS (VmHWM) before",
            lambda f: f"{f['before_hwm']:,.1f} MB" + ("" if f["peak_reset"] else " (not reset)")),
        row("worker peak RSS (VmHWM) after upload", lambda f: f"{f['after_hwm']:,.1f} MB"),
        row("upload: peak RSS growth", lambda f: growth(f["growth"])),
        row("upload: highest RSS sampled", lambda f: f"{f['sampled_upload']:,.1f} MB"),
        row("RSS before / after upload", lambda f: f"{f['before_rss']:,.1f} / {f['after_rss']:,.1f} MB"),
        row("upload time (HTTP, hash, store)", lambda f: rate(f["elapsed"])),
        row("download: peak RSS growth", lambda f: growth(f["download_growth"])),
        row("download: highest RSS sampled", lambda f: f"{f['sampled_download']:,.1f} MB"),
        row("download time (streamed, sha256 equal)", lambda f: rate(f["download_elapsed"])),
        ("reference: write+sha256 in-process", rate(reference)),
        ("sha256", ref_sha256),
    ]
    width = max(len(r[0]) for r in rows)
    columns = max(len(str(cell)) for r in rows[:-2] for cell in r[1:])
    print()
    print(f"{'measure':<{width}}  " + "  ".join(f"{'':<{columns}}" for _ in storages))
    for label, *cells in rows:
        print(f"{label:<{width}}  " + "  ".join(f"{cell:<{columns}}" for cell in cells))
    ok = all(f["growth"] < 100 and f["download_growth"] < 100 for f in figures.values())
    verdict = "met" if ok else "NOT met"
    print(f"\ntarget: peak RSS growth < 100 MB during the upload and the download: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
