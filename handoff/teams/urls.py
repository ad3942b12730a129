from django.urls import path

from . import views

app_name = "teams"
urlpatterns = [
    path("teams/<slug:slug>/", views.team_detail, name="team"),
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("projects/<slug:slug>/members/", views.add_member, name="add_member"),
    path("projects/<slug:slug>/members/<int:assignment_id>/", views.change_member_role, name="change_role"),
    path(
        "projects/<slug:slug>/members/<int:assignment_id>/remove/", views.remove_member, name="remove_member"
    ),
    path("projects/<slug:slug>/webhooks/", views.project_webhooks, name="webhooks"),
    path("projects/<slug:slug>/webhooks/<int:pk>/", views.webhook_detail, name="webhook"),
    path("projects/<slug:slug>/webhooks/<int:pk>/test/", views.webhook_test, name="webhook_test"),
    path("projects/<slug:slug>/webhooks/<int:pk>/active/", views.webhook_active, name="webhook_active"),
    path("projects/<slug:slug>/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook_delete"),
]
