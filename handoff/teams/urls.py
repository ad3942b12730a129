from django.urls import path

from . import views

app_name = "teams"
urlpatterns = [
    path("teams/<slug:slug>/", views.team_detail, name="team"),
    path("projects/<slug:slug>/", views.project_detail, name="project"),
]
