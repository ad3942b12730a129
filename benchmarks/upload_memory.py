"""Upload memory benchmark: stream a large artifact through the real API.

Starts gunicorn (one worker) on a temporary database and MEDIA_ROOT, creates a
data scientist, a project and a draft handover, streams a file (1 GiB by
default) through ``POST /api/v1/handovers/{id}/revisions/1/artifacts/`` from a
generator with http.client, and prints the web worker's peak RSS (VmHWM)
before and after, the growth, the time and the throughput, next to a
reference: writing and hashing the same bytes to a file in this process.

    .venv/bin/python benchmarks/upload_memory.py [--size-mb 1024] [--chunk-kb 1024]

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
from rest_framework.authtoken.models import Token
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
print(Token.objects.create(user=dana).key, handover.pk)
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


def multipart_parts(size):
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nmodel\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big-model.onnx\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail, len(head) + size + len(tail)


def wait_for(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--chunk-kb", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mb * 1024**2
    chunk = args.chunk_kb * 1024

    with tempfile.TemporaryDirectory(prefix="handoff-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "uploads").mkdir()
        env = {
            **os.environ,
            "DEBUG": "1",
            "MEDIA_ROOT": str(tmp / "media"),
            "FILE_UPLOAD_TEMP_DIR": str(tmp / "uploads"),
            "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}",
            "HANDOFF_MAX_UPLOAD_BYTES": str(max(size + 1024**2, 2 * 1024**3)),
            "DJANGO_SETTINGS_MODULE": "handoff.settings",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("REDIS_URL", None)  # embedded: no broker needed for an upload
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
        try:
            wait_for(port)
            worker = psutil.Process(server.pid).children()[0].pid
            # Warm up: import the API, serializers and handlers before measuring.
            status, _ = request(port, "GET", f"/api/v1/handovers/{handover_id}/", token)
            assert status == 200, status
            peak_reset = reset_peak(worker)
            before_hwm, before_rss = vm_hwm_mb(worker), rss_mb(worker)

            head, tail, length = multipart_parts(size)
            client_hash = hashlib.sha256()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
            started = time.perf_counter()
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
            elapsed = time.perf_counter() - started
            assert response.status == 201, (response.status, body)
            assert body["sha256"] == client_hash.hexdigest(), "sha256 mismatch"
            assert body["size"] == size
            after_hwm, after_rss = vm_hwm_mb(worker), rss_mb(worker)
        finally:
            server.terminate()
            server.wait(timeout=30)

        # Reference: the least any server must do with the same bytes: write them to a file and hash them.
        ref_hash = hashlib.sha256()
        started = time.perf_counter()
        with open(tmp / "reference.bin", "wb") as out:
            for piece in blocks(size, chunk):
                ref_hash.update(piece)
                out.write(piece)
            out.flush()
            os.fsync(out.fileno())
        reference = time.perf_counter() - started
        assert ref_hash.hexdigest() == client_hash.hexdigest()

    growth = after_hwm - before_hwm
    mib = size / 1024**2
    rows = [
        ("file size", f"{mib:,.0f} MiB"),
        ("chunk sent", f"{chunk // 1024} KiB"),
        ("database", env["DATABASE_URL"].split(":", 1)[0]),
        ("worker peak RSS (VmHWM) before", f"{before_hwm:,.1f} MB" + ("" if peak_reset else " (not reset)")),
        ("worker peak RSS (VmHWM) after", f"{after_hwm:,.1f} MB"),
        ("peak RSS growth", f"{growth:,.1f} MB  (target < 100 MB: {'OK' if growth < 100 else 'OVER'})"),
        ("worker RSS before / after", f"{before_rss:,.1f} / {after_rss:,.1f} MB"),
        ("upload time (HTTP, hash, store)", f"{elapsed:,.2f} s  ({mib / elapsed:,.0f} MiB/s)"),
        ("reference: write+sha256 in-process", f"{reference:,.2f} s  ({mib / reference:,.0f} MiB/s)"),
        ("ratio upload / reference", f"{elapsed / reference:,.2f}x"),
        ("sha256", client_hash.hexdigest()),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0 if growth < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
