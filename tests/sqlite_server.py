"""A Handoff server on a SQLite file, in a process of its own, for the
SQLite race test (``tests/core/test_sqlite_races.py``).

    python tests/sqlite_server.py setup         -> JSON: a handover awaiting review, two tokens
    python tests/sqlite_server.py serve PORT DIR

``serve`` holds the first request that takes a row lock (``core.locking``'s
checkpoint) until the file DIR/release exists, after writing DIR/holding:
the test then knows the first request is inside its transaction.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handoff.settings")


def setup():
    import django

    django.setup()
    from django.utils import timezone

    from handoff.handovers.models import HandoverState
    from handoff.teams.models import Role
    from tests.factories import ProjectFactory, api_token, member, ready_draft

    project = ProjectFactory()
    scientist = member(project, Role.DATA_SCIENTIST)
    engineers = [member(project, Role.ML_ENGINEER) for _ in range(2)]
    handover, revision = ready_draft(project=project, owner=scientist)
    revision.submitted_at = timezone.now()
    revision.submitted_by = scientist
    revision.save()
    handover.state = HandoverState.AWAITING_REVIEW
    handover.awaiting_review_since = timezone.now()
    handover.save()
    print(json.dumps({"handover": handover.pk,
                      "tokens": [api_token(user) for user in engineers]}))


def serve(port, folder):
    import django

    django.setup()
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    from handoff.core import locking

    folder = Path(folder)
    held = []

    def hold_the_first(stage, model, lookup):
        if stage == "locked" and not held:
            held.append(True)
            (folder / "holding").write_text("")
            deadline = time.monotonic() + 120
            while not (folder / "release").exists() and time.monotonic() < deadline:
                time.sleep(0.02)

    locking.checkpoints.append(hold_the_first)

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", int(port)), QuietHandler)
    server.set_app(get_wsgi_application())
    (folder / "ready").write_text("")
    server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup()
    else:
        serve(*sys.argv[2:4])
