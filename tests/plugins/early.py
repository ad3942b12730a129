"""Loaded with ``-p`` before Django is set up: give this test process (and
each xdist worker) a Celery queue of its own, so a worker started by one run
never takes another run's tasks."""

import os
import uuid

os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"handoff-test-{uuid.uuid4().hex[:10]}"
