from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("incidents/<int:pk>/", views.incident_detail, name="detail"),
]
