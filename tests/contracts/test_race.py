"""Two engineers selecting different candidates of one contract at the same
moment, through real concurrent HTTP requests: the first to lock the contract
wins, the second waits on that lock and is then told another candidate was
selected (409). Exactly one candidate is accepted; the rest are not selected.

On PostgreSQL ``tests/race.py`` proves the overlap (the second request waited
on the contract's row lock). On the embedded SQLite default a server of its
own (``tests/sqlite_server.py serve``) holds the first select inside its
transaction while the second is sent: a 409, never a 500 "database is locked".
"""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import requests
from django.conf import settings

from handoff.contracts.models import Candidate
from handoff.handovers.models import Handover, HandoverState, Review
from handoff.teams.models import Role
from tests.core.test_sqlite_races import sqlite_server  # noqa: F401 - the SQLite server fixture
from tests.factories import ProjectFactory, agreed_contract, api_token, measured_candidate, member
from tests.race import api_session, race
from tests.timing import scaled, wait_until


@pytest.fixture
def selection(postgres, live_server):
    project = ProjectFactory()
    scientist = member(project, Role.DATA_SCIENTIST)
    engineers = member(project, Role.ML_ENGINEER), member(project, Role.ML_ENGINEER)
    contract = agreed_contract(project, scientist, engineers[0])
    candidates = [measured_candidate(contract, scientist) for _ in range(3)]
    # Tokens are made here: a thread that touched the ORM would leave a connection open.
    sessions = [api_session(api_token(user)) for user in engineers]
    yield contract, candidates, sessions
    for session in sessions:
        session.close()


def _select(live_server, session, handover, comment):
    url = f"{live_server.url}/api/v1/handovers/{handover.pk}/select/"
    return lambda: session.post(url, json={"comment": comment}, timeout=60)


@pytest.mark.postgres
def test_two_engineers_selecting_at_once_give_one_200_and_one_409(selection, live_server):
    contract, (first, second, third), (eli, emma) = selection
    result = race(
        _select(live_server, eli, first, "The smallest"), _select(live_server, emma, second, "Most accurate")
    )
    assert result.waited_on_lock
    assert (result.first.status, result.second.status) == (200, 409), result
    assert "already selected" in result.second.detail
    states = dict(Handover.objects.filter(candidacy__contract=contract).values_list("pk", "state"))
    assert states == {
        first.pk: HandoverState.ACCEPTED,
        second.pk: HandoverState.NOT_SELECTED,
        third.pk: HandoverState.NOT_SELECTED,
    }
    assert Review.objects.filter(revision__handover__candidacy__contract=contract).count() == 1
    assert Candidate.objects.filter(contract=contract, handover__state=HandoverState.ACCEPTED).count() == 1


# --- the embedded SQLite default ------------------------------------------------------------------------

# Run in the SQLite server's database (``python -c``): an agreed contract with two candidates under review
# and two engineers' tokens, printed as JSON.
SETUP = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handoff.settings")
    import django
    django.setup()
    from handoff.teams.models import Role
    from tests.factories import ProjectFactory, TeamFactory, UserFactory, agreed_contract, api_token
    from tests.factories import measured_candidate
    from tests.factories import member

    # Named: the factories' sequences start again in this process, beside the server's own setup.
    team = TeamFactory(slug="race-team", name="Race team", leader=UserFactory(username="race-leader"))
    project = ProjectFactory(team=team, slug="race-project", name="Race project")
    scientist = member(project, Role.DATA_SCIENTIST, username="race-dana")
    engineers = [member(project, Role.ML_ENGINEER, username=name) for name in ("race-eli", "race-emma")]
    contract = agreed_contract(project, scientist, engineers[0])
    candidates = [measured_candidate(contract, scientist).pk for _ in range(2)]
    print(json.dumps({"candidates": candidates,
                      "tokens": [api_token(user) for user in engineers]}))
""")


def test_two_selects_at_once_on_sqlite_give_one_200_and_one_409(sqlite_server):  # noqa: F811
    url, _, folder = sqlite_server
    env = {"DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}", "MEDIA_ROOT": str(folder / "media")}
    made = subprocess.run(
        [sys.executable, "-c", SETUP],
        cwd=settings.BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            **env,
            "HANDOFF_BROKER_DIR": str(folder / "broker"),
        },
        capture_output=True,
        text=True,
        timeout=scaled(120),
    )
    assert made.returncode == 0, made.stderr
    world = json.loads(made.stdout.strip().splitlines()[-1])
    # The server holds the first request that takes a row lock: the one sent first below.
    (folder / "holding").unlink(missing_ok=True)
    results, finished = {}, {}

    def send(name, handover, token):
        response = requests.post(
            f"{url}/api/v1/handovers/{handover}/select/",
            json={"comment": name},
            headers={"Authorization": f"Token {token}"},
            timeout=scaled(60),
        )
        results[name] = (response.status_code, response.json())
        finished[name] = time.monotonic()

    first = threading.Thread(target=send, args=("first", world["candidates"][0], world["tokens"][0]))
    first.start()
    wait_until(lambda: (folder / "holding").exists(), "the first select to hold its transaction")
    second = threading.Thread(target=send, args=("second", world["candidates"][1], world["tokens"][1]))
    second.start()
    time.sleep(scaled(1.5))
    released = time.monotonic()
    assert "second" not in results, f"the second select did not wait for the first: {results}"
    (folder / "release").write_text("")
    first.join(scaled(60))
    second.join(scaled(60))
    assert results["first"][0] == 200, results
    assert results["second"][0] == 409, results
    assert "already selected" in results["second"][1]["detail"]
    assert finished["second"] >= released
