"""The model card of an accepted handover: a Markdown download, a printable
page and the API's Markdown. Thin: find the handover in the reader's scope (a
404 otherwise), build the card (``model_card``), answer; a handover not yet
accepted is a 409 saying when the card is issued."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from handoff.core.errors import Conflict, NotFound
from handoff.handovers import selectors as handover_selectors
from handoff.handovers.markdown import render_markdown

from . import model_card

MARKDOWN = "text/markdown; charset=utf-8"


def _handover(user, pk):
    handover = handover_selectors.visible_handovers(user).filter(pk=pk).first()
    if handover is None:
        raise NotFound("Not found.")
    return handover


def _download(handover, text):
    response = HttpResponse(text, content_type=MARKDOWN)
    response["Content-Disposition"] = f'attachment; filename="{model_card.file_name(handover)}"'
    return response


@login_required
@require_GET
def model_card_markdown(request, pk):
    """The card as a Markdown file (YAML front matter, then the sections)."""
    handover = _handover(request.user, pk)
    try:
        text = model_card.model_card(handover)
    except Conflict as refused:
        return HttpResponse(refused.message, status=409, content_type="text/plain; charset=utf-8")
    return _download(handover, text)


@login_required
@require_GET
def model_card_page(request, pk):
    """The card as a printable page: its metadata, then its body rendered from the same Markdown."""
    handover = _handover(request.user, pk)
    try:
        facts = model_card.card_facts(handover)
    except Conflict as refused:
        context = {"handover": handover, "refused": refused.message}
        return render(request, "contracts/model_card.html", context, status=409)
    return render(request, "contracts/model_card.html", {
        "handover": handover,
        "front_matter": model_card.front_matter(facts),
        "body": render_markdown(model_card.body(facts)),
    })


class _ErrorsAsJSON(BaseContentNegotiation):
    """The card is Markdown whatever the client accepts; an error is the API's JSON, as everywhere."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


CARD_SCHEMA = extend_schema(
    summary="The model card of an accepted handover, as Markdown",
    description=(
        "Built from what was signed and measured, not from what was claimed: YAML front matter in the "
        "Hugging Face model-card layout (the measured metrics in `model-index`, the measured parameters, "
        "latency and memory under `measured`, the signatures and artifact hashes under `handoff`), then "
        "intended use, limitations, the validation set, fairness per slice, parameters, latency and "
        "memory, and the signatures. A contract's blind labels stay blind: only their sha256. "
        "409 until the handover is accepted."
    ),
    tags=["handovers"],
    responses={
        (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, description="The card"),
        404: OpenApiResponse(description="Not found, or outside your projects"),
        409: OpenApiResponse(description="The handover is not accepted (yet): no card is issued"),
    },
)


class ModelCardView(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _ErrorsAsJSON

    @CARD_SCHEMA
    def get(self, request, pk):
        handover = _handover(request.user, pk)
        return _download(handover, model_card.model_card(handover))


model_card_api = ModelCardView.as_view()
