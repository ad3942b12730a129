"""A webhook receiver on 127.0.0.1 that counts what reaches it, by delivery id.

``hold()`` makes it keep the next requests open, unanswered, until
``release()``: a slow receiver, in the middle of which a worker can be killed.
"""

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.timing import scaled


class Receiver:
    def __init__(self):
        self.hits = []  # (delivery id, event name, payload) of every request that arrived
        self.answered = []  # delivery ids answered 200
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._released.set()
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delivery = self.headers.get("X-Handoff-Delivery", "")
                event = self.headers.get("X-Handoff-Event", "")
                with receiver._lock:
                    receiver.hits.append((delivery, event, json.loads(body)))
                receiver.arrived.set()
                receiver._released.wait(timeout=scaled(120))
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the sender is gone (killed while we held it)
                    return
                with receiver._lock:
                    receiver.answered.append(delivery)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def hold(self):
        self.arrived.clear()
        self._released.clear()

    def release(self):
        self._released.set()

    def by_delivery(self):
        with self._lock:
            return Counter(delivery for delivery, _, _ in self.hits)

    def events(self):
        """{delivery id: event name} of what reached the receiver, each id once."""
        with self._lock:
            return {delivery: event for delivery, event, _ in self.hits}
