"""Pages at volume: latency and throughput of the pages people open most, on
the generated volume (``manage.py generate_volume``), beside the framework's floor.

Starts gunicorn on 127.0.0.1 (a free port; 2 workers x 2 threads for two cores)
with ``benchmarks/bench_settings.py``, whose URL conf adds ``/__floor__/``: a
Django view returning a constant, through the same middleware and server. Logs
in through the login form as a data scientist (ds0001), an ML engineer
(mle0001) and a team leader (lead01), gets the engineer's API token from
``POST /api/v1/auth/token/``, warms every path up, then has a few client
threads (each with its own keep-alive session) request each path in turn and
prints p50/p95 latency, requests/s and each ratio to the floor, against the
issue's targets: the team dashboard p95 < 300 ms, every other page p95 < 150 ms,
the API lists >= 35 % of the floor's throughput.

    make bench-pages      # or: .venv/bin/python benchmarks/pages.py [--requests 200] [--clients 4]

DATABASE_URL names the volume's PostgreSQL database (default: handoff_volume on
127.0.0.1); it is migrated, and the volume generated (``--scale``) if it holds
none. The database is kept: generating it takes minutes.
"""

import argparse
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
DEFAULT_DATABASE_URL = "postgres://handoff:handoff@127.0.0.1:5432/handoff_volume"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "handoff-volume"  # handoff.dashboards.volume.PASSWORD (not imported: no Django here)
TEAM = "vol-team-01"
DASHBOARD_P95_MS, PAGE_P95_MS, API_SHARE_OF_FLOOR = 300, 150, 0.35

TARGETS_SQL = {
    # The agreed contract of team 1 with the most candidates.
    "contract": """
        select c.id from contracts_contract c
        join teams_project p on p.id = c.project_id join teams_team t on t.id = p.team_id
        join contracts_candidate k on k.contract_id = c.id
        where t.slug = %(team)s and c.state = 'agreed'
        group by c.id order by count(*) desc, c.id limit 1""",
    # A deployed handover of ds0001's with the most revisions (the fullest page).
    "handover": """
        select h.id from handovers_handover h
        where h.owner_id = (select id from accounts_user where username = 'ds0001') and h.state = 'deployed'
        order by (select count(*) from handovers_revision r where r.handover_id = h.id) desc, h.id
        limit 1""",
}
COUNTS_SQL = """
    select (select count(*) from handovers_handover), (select count(*) from incidents_incident),
           (select count(*) from deployments_metricobservation), (select count(*) from accounts_user)"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def machine():
    """nproc, CPU model, RAM: where the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
        ram = f"{kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    return f"{os.cpu_count()} CPUs ({cpu}), {ram}, {platform.system()} {platform.release()}"


def ensure_volume(url, env, scale):
    """Create the database if missing, migrate it, and generate the volume if it holds none."""
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    try:
        psycopg2.connect(url).close()
    except psycopg2.OperationalError:
        admin = psycopg2.connect(with_database(url, "postgres"))
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'create database "{name}"')
        admin.close()
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    with psycopg2.connect(url) as database, database.cursor() as cursor:
        cursor.execute("select exists(select 1 from teams_team where slug = %s)", [TEAM])
        present = cursor.fetchone()[0]
    if not present:
        print(f"{name} holds no volume: generating it (--scale {scale}) …", flush=True)
        subprocess.run([PYTHON, "manage.py", "generate_volume", "--scale", str(scale)], cwd=ROOT, env=env,
                       check=True)


def login(base, username):
    """A session logged in through the login form."""
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(f"{base}/accounts/login/", timeout=30, allow_redirects=False,
                            data={"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD})
    if response.status_code != 302 or "sessionid" not in session.cookies:
        sys.exit(f"could not log in as {username}: {response.status_code}")
    return session


def api_session(base, username):
    response = requests.post(f"{base}/api/v1/auth/token/", json={"username": username, "password": PASSWORD},
                             timeout=30)
    response.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Token {response.json()['token']}"
    return session


def clone(session):
    """A session of its own per client thread (requests.Session is not thread-safe), same identity."""
    twin = requests.Session()
    twin.headers.update(session.headers)
    twin.cookies.update(session.cookies)
    return twin


def measure(url, session, total, clients, warmup):
    """(latencies in s, requests/s, errors) of ``total`` GETs from ``clients`` threads."""
    for _ in range(warmup):
        session.get(url, timeout=60)
    latencies, errors, lock = [], [], threading.Lock()
    remaining = [total]

    def client():
        own = clone(session)
        while True:
            with lock:
                if not remaining[0]:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            response = own.get(url, timeout=60, allow_redirects=False)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status_code != 200:
                    errors.append(response.status_code)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    return latencies, total / (time.perf_counter() - started), errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="measured requests per path")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests per path first")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="volume to generate if the database has none")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith("postgres"):
        sys.exit("bench-pages needs PostgreSQL: set DATABASE_URL to a postgres:// URL")
    with tempfile.TemporaryDirectory(prefix="handoff-bench-pages-") as tmp:
        env = {**os.environ, "DATABASE_URL": url,
               "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
               "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings", "MEDIA_ROOT": str(Path(tmp) / "media"),
               "STATIC_ROOT": str(Path(tmp) / "static"),
               # Production settings, but plain HTTP on loopback (no TLS proxy in front).
               "DEBUG": "0", "SECRET_KEY": "bench-pages-" + "x" * 50, "ALLOWED_HOSTS": "127.0.0.1",
               "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING",
               # gunicorn.conf.py would recycle workers mid-measurement; the flags below say the rest.
               "GUNICORN_MAX_REQUESTS": "0"}
        ensure_volume(url, env, args.scale)
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        with psycopg2.connect(url) as database, database.cursor() as cursor:
            targets = {}
            for name, sql in TARGETS_SQL.items():
                cursor.execute(sql, {"team": TEAM})
                targets[name] = cursor.fetchone()[0]
            cursor.execute(COUNTS_SQL)
            handovers, incidents, observations, users = cursor.fetchone()
            cursor.execute("show server_version")
            postgres = cursor.fetchone()[0]

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "handoff.wsgi", "-w", str(args.web_workers), "--threads",
             str(args.web_threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{base}/__floor__/", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("gunicorn did not start")
                time.sleep(0.2)
            scientist, engineer, leader = login(base, "ds0001"), login(base, "mle0001"), login(base, "lead01")
            api = api_session(base, "mle0001")
            paths = [  # (label, kind, path, session)
                ("floor: bare Django view", "floor", "/__floor__/", engineer),
                ("team dashboard (lead01)", "dashboard", f"/teams/{TEAM}/dashboard/", leader),
                ("home, data scientist (ds0001)", "page", "/", scientist),
                ("home, ML engineer (mle0001)", "page", "/", engineer),
                ("home, leader (lead01)", "page", "/", leader),
                ("handovers list (ds0001)", "page", "/handovers/", scientist),
                ("review queue (mle0001)", "page", "/handovers/review-queue/", engineer),
                ("triage queue (mle0001)", "page", "/incidents/", engineer),
                ("contract comparison (mle0001)", "page", f"/contracts/{targets['contract']}/comparison/",
                 engineer),
                ("handover page (ds0001)", "page", f"/handovers/{targets['handover']}/", scientist),
                ("API handovers (mle0001)", "api", "/api/v1/handovers/", api),
                ("API incidents", "api", "/api/v1/incidents/", api),
                ("API contracts", "api", "/api/v1/contracts/", api),
                ("API deployments", "api", "/api/v1/deployments/", api),
            ]
            results, notes = [], []
            for label, kind, path, session in paths:
                probe = session.get(base + path, timeout=120, allow_redirects=False)
                if probe.status_code == 404 and kind == "dashboard":
                    notes.append(f"{path} answers 404 (the team dashboard is not built yet): skipped")
                    continue
                if probe.status_code != 200:
                    sys.exit(f"{path} answered {probe.status_code} before measuring: {probe.text[:300]}")
                print(f"measuring {path} …", file=sys.stderr, flush=True)
                latencies, throughput, errors = measure(base + path, session, args.requests, args.clients,
                                                        args.warmup)
                results.append((label, kind, path, latencies, throughput, errors))
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()

    print(f"Machine: {machine()}; PostgreSQL {postgres}")
    print(f"Volume: {handovers:,} handovers, {incidents:,} incidents, {observations:,} metric observations, "
          f"{users:,} users; gunicorn {args.web_workers} workers x {args.web_threads} threads, "
          f"{args.clients} clients, {args.requests} requests per path after {args.warmup} to warm up")
    for note in notes:
        print(f"Note: {note}")
    floor = next(r for r in results if r[1] == "floor")
    floor_p50, floor_rps = statistics.median(floor[3]), floor[4]
    header = (f"{'path':<52}{'p50 ms':>8}{'p95 ms':>8}{'req/s':>8}{'p50/floor':>10}{'rps % floor':>12}"
              f"  {'target':<22}{'':>5}")
    print(header)
    print("-" * len(header))
    misses, failures = [], []
    for label, kind, path, latencies, throughput, errors in results:
        p50, p95 = statistics.median(latencies) * 1000, percentile(latencies, 0.95) * 1000
        share = throughput / floor_rps
        if kind == "floor":
            target, ok = "(the floor)", True
        elif kind == "dashboard":
            target, ok = f"p95 < {DASHBOARD_P95_MS} ms", p95 < DASHBOARD_P95_MS
        elif kind == "api":
            target, ok = f">= {API_SHARE_OF_FLOOR:.0%} of floor req/s", share >= API_SHARE_OF_FLOOR
        else:
            target, ok = f"p95 < {PAGE_P95_MS} ms", p95 < PAGE_P95_MS
        verdict = "" if kind == "floor" else ("PASS" if ok else "MISS")
        if not ok:
            misses.append(label)
        if errors:
            failures.append(f"{path}: {len(errors)} non-200 answers ({sorted(set(errors))})")
        shown = f"{label}  {path}" if len(label) + len(path) < 50 else f"{label}  {path[:48 - len(label)]}…"
        print(f"{shown:<52}{p50:>8.1f}{p95:>8.1f}{throughput:>8.1f}{(p50 / 1000) / floor_p50:>9.1f}x"
              f"{share:>11.0%}  {target:<22}{verdict:>5}")
    print(f"{len(results) - 1 - len(misses)} of {len(results) - 1} paths meet their target"
          + (f"; missed: {', '.join(misses)}" if misses else ""))
    if failures:
        print("FAILED: " + "; ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
