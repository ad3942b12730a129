from django.urls import path

from . import views

app_name = "dashboards"

# The team dashboard, its CSV and the index of dashboards a person may open.
urlpatterns = [
    path("dashboards/", views.index, name="index"),
    path("teams/<slug:slug>/dashboard/", views.team, name="team"),
    path("teams/<slug:slug>/dashboard.csv", views.team_csv, name="team_csv"),
]
