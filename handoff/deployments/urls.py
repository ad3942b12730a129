from django.urls import path

from . import views

app_name = "deployments"
urlpatterns = [
    path("handovers/<int:pk>/deploy/", views.deploy, name="deploy"),
    path("handovers/<int:pk>/retire/", views.retire_handover, name="retire_handover"),
    path("deployments/<int:pk>/", views.deployment_detail, name="detail"),
    path("deployments/<int:pk>/rollback/", views.rollback, name="rollback"),
    path("deployments/<int:pk>/retire/", views.retire, name="retire"),
    path("deployments/<int:pk>/value/", views.record_value, name="record_value"),
    path("projects/<slug:slug>/ingestion-tokens/", views.project_tokens, name="tokens"),
    path("projects/<slug:slug>/ingestion-tokens/<int:pk>/revoke/", views.revoke_token, name="revoke_token"),
]
