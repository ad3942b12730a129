from django.urls import path

from . import views

app_name = "incidents"


def _move(name):
    return path(f"incidents/<int:pk>/{name}/", views.move, {"transition": name}, name=name)


urlpatterns = [
    path("incidents/", views.triage, name="triage"),
    path("incidents/new/", views.new_incident, name="new"),
    path("incidents/<int:pk>/", views.incident_detail, name="detail"),
    *(_move(name) for name in ("acknowledge", "investigate", "mitigate", "resolve", "close", "reopen")),
    path("incidents/<int:pk>/assign/", views.assign, name="assign"),
    path("incidents/<int:pk>/severity/", views.severity, name="severity"),
    path("incidents/<int:pk>/escalate/", views.escalate, name="escalate"),
    path("incidents/<int:pk>/comments/", views.comment, name="comment"),
    path("incidents/<int:pk>/postmortem/", views.postmortem, name="postmortem"),
    path("incidents/<int:pk>/action-items/", views.add_action_item, name="add_action_item"),
    path("incidents/<int:pk>/action-items/<int:item_pk>/done/", views.action_item_done,
         name="action_item_done"),
    path("incidents/<int:pk>/fix/", views.file_fix, name="file_fix"),
]
