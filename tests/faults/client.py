"""A client that keeps sending, and remembers every request and its answer."""

import threading
import time
from dataclasses import dataclass, field

import requests

from tests.timing import scaled


@dataclass
class Sent:
    n: int
    what: str  # a label: "list", "comment", "metrics", "page" …
    method: str
    path: str
    started: float
    marker: object = None  # what identifies the write in the database
    ended: float = 0.0
    status: int | None = None  # None: no answer (refused, reset, timed out)
    content_type: str = ""
    body: str = ""
    headers: dict = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    def json(self):
        import json

        return json.loads(self.body)


class Stream:
    """Sends ``requests_for(n)`` (a list of (what, method, path, json, headers, marker)) in turn,
    on a thread of its own, until stopped or ``limit`` requests were sent."""

    def __init__(self, base_url, requests_for, *, limit=400, pause=0.02):
        self.base_url = base_url
        self.requests_for = requests_for
        self.limit = limit
        self.pause = pause
        self.sent: list[Sent] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.session = requests.Session()

    def send(self, what, method, path, json=None, headers=None, marker=None):
        record = Sent(len(self.sent), what, method, path, time.monotonic(), marker)
        try:
            response = self.session.request(method, self.base_url + path, json=json, headers=headers or {},
                                            timeout=scaled(30), allow_redirects=False)
        except requests.RequestException as exc:
            record.error = f"{type(exc).__name__}: {exc}"
        else:
            record.status = response.status_code
            record.content_type = response.headers.get("Content-Type", "")
            record.body = response.text
            record.headers = dict(response.headers)
        record.ended = time.monotonic()
        self.sent.append(record)
        return record

    def _run(self):
        n = 0
        while not self._stop.is_set() and len(self.sent) < self.limit:
            for request in self.requests_for(n):
                self.send(*request)
            n += 1
            time.sleep(self.pause)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=scaled(60))

    def answered_since(self, moment):
        return [record for record in self.sent if record.started >= moment]

    def count(self, predicate):
        return sum(1 for record in list(self.sent) if predicate(record))
