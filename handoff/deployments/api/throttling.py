"""A rate per ingestion token on ``POST /deployments/{id}/metrics/``
(``HANDOFF_INGEST_RATE``, such as "600/min"), counted in the shared cache so
that it holds across every web process (Redis in production). While the
cache is away the limit is not kept: monitoring's posts are stored rather
than refused for a limit that only guards against floods."""

import logging
import math

from django.conf import settings
from rest_framework import exceptions, throttling

from handoff.core.outages import is_outage

from ..models import IngestionToken

logger = logging.getLogger(__name__)


class IngestionTokenThrottle(throttling.SimpleRateThrottle):
    """At most N posts per token in each period (a fixed window).

    DRF's SimpleRateThrottle keeps a list of times that each request reads,
    extends and writes back: two processes posting at once both read it and
    one of the posts goes uncounted. Here the cache counts (Redis' INCR is
    atomic), so no post escapes the limit."""

    scope = "ingestion"

    def get_rate(self):
        return settings.HANDOFF_INGEST_RATE

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, IngestionToken):
            return None
        # The digest, not the id: a recreated or restored database gives an id again, never a digest.
        return self.cache_format % {"scope": self.scope, "ident": request.auth.digest[:32]}

    def allow_request(self, request, view):
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        key = f"{key}_{window}"
        try:
            count = self._count(key)
        except Exception as exc:
            if not is_outage(exc):
                raise
            logger.warning("Ingestion rate not counted, the cache is away: %s", exc)
            return True
        if count <= self.num_requests:
            return True
        wait = max(1, math.ceil((window + 1) * self.duration - now))
        error = exceptions.Throttled(detail=(
            f"This ingestion token may post at most {self.num_requests} times per {_period(self.duration)}; "
            f"nothing of this post was stored. Try again in {wait} second{'s' if wait != 1 else ''} "
            f"(see Retry-After), or send more observations per post."))
        # Set after: given to Throttled(), DRF would add its own "Expected available in …" to the message.
        error.wait = wait
        raise error


    def _count(self, key):
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's key expired between add() and incr()
            self.cache.add(key, 1, timeout=self.duration + 1)
            return 1


def _period(seconds):
    return {1: "second", 60: "minute", 3600: "hour", 86400: "day"}[seconds]
