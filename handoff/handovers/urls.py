from django.urls import path

from . import views

app_name = "handovers"
urlpatterns = [
    path("handovers/new/", views.new_handover, name="new"),
    path("handovers/mine/", views.my_handovers, name="mine"),
    path("handovers/review-queue/", views.review_queue, name="review_queue"),
    path("handovers/<int:pk>/", views.handover_detail, name="detail"),
]
