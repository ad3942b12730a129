"""The API lists incidents with the queue's FilterSet, without its default:
``?status=active`` asks for those being worked; no ``status``, all of them."""

from ..filters import IncidentFilter

__all__ = ["IncidentFilter"]
