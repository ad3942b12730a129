from django.urls import path

from . import views

app_name = "contracts"
urlpatterns = [
    path("contracts/<int:pk>/", views.contract_detail, name="detail"),
]
