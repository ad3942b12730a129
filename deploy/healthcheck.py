"""The container's health check: does the web process answer /health/ at all?

200 (everything up) and 503 (PostgreSQL, Redis or the workers down) both mean the web
process lives; restarting it would not bring the others back. Anything else (no
answer, a timeout) fails the check. Standard library only.
"""

import os
import sys
import urllib.error
import urllib.request

port = os.environ.get("PORT", "8000")
try:
    status = urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=4).status
except urllib.error.HTTPError as error:
    status = error.code
except OSError as error:
    sys.exit(f"no answer from the web process: {error}")
sys.exit(0 if status in (200, 503) else f"/health/ answered {status}")
