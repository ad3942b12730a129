"""The product's URLs plus ``/__floor__/``: a Django view returning a constant,
through the same middleware and server, so each page's figures can be read
against what the framework costs by itself. Only the benchmark's settings
(``benchmarks/bench_settings.py``) use this URL conf; the product never serves it."""

from django.http import HttpResponse
from django.urls import path

from handoff.urls import handler404, handler500  # noqa: F401 (the product's error pages)
from handoff.urls import urlpatterns as product_urlpatterns


def floor(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("__floor__/", floor, name="bench-floor"), *product_urlpatterns]
