"""Time in tests: one scale for every timeout, and one way to wait.

A test never sleeps for a fixed time hoping that something has happened; it
waits until it has (``wait_until``), up to a timeout. Every timeout of the
suite goes through ``scaled``, so a slow or busy machine is given more time
with one environment variable, ``HANDOFF_TEST_TIMEOUT_SCALE`` (default 1; CI
may set 2 or 3), instead of a test being edited.
"""

import os
import time

from django.core.exceptions import ImproperlyConfigured


def timeout_scale():
    value = os.environ.get("HANDOFF_TEST_TIMEOUT_SCALE", "1")
    try:
        scale = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"HANDOFF_TEST_TIMEOUT_SCALE must be a number; got {value!r}") from None
    if scale <= 0:
        raise ImproperlyConfigured(f"HANDOFF_TEST_TIMEOUT_SCALE must be above 0; got {value!r}")
    return scale


def scaled(seconds):
    """``seconds`` times the suite's timeout scale."""
    return seconds * timeout_scale()


class WaitTimeout(AssertionError):
    pass


def wait_until(predicate, what, *, timeout=30, interval=0.05, detail=None):
    """Call ``predicate`` until it returns something truthy and return that.

    Fails with "timed out after N s waiting for <what>" (and ``detail()``,
    a callable giving more context such as a worker's log) when ``timeout``
    (scaled) passes first. The predicate is tried once more at the deadline,
    so a slow last step is not reported as a timeout."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            result = predicate()
            if result:
                return result
            message = f"timed out after {scaled(timeout):.0f} s waiting for {what}"
            if detail is not None:
                message += f"\n{detail()}"
            raise WaitTimeout(message)
        time.sleep(interval)
        interval = min(interval * 1.5, 0.5)
