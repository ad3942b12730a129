from django.urls import path

from . import views

app_name = "handovers"
urlpatterns = [
    path("handovers/", views.handover_list, name="list"),
    path("handovers/new/", views.new_handover, name="new"),
    path("handovers/mine/", views.my_handovers, name="mine"),
    path("handovers/review-queue/", views.review_queue, name="review_queue"),
    path("handovers/<int:pk>/", views.handover_detail, name="detail"),
    path("handovers/<int:pk>/state/", views.handover_state, name="state"),
    path("handovers/<int:pk>/edit/", views.edit_terms, name="edit"),
    path("handovers/<int:pk>/artifacts/", views.upload_artifact, name="upload"),
    path(
        "handovers/<int:pk>/artifacts/<int:artifact_pk>/remove/", views.remove_artifact,
        name="remove_artifact",
    ),
    path(
        "handovers/<int:pk>/files/<int:artifact_pk>/", views.download_artifact,
        name="download_artifact",
    ),
    path("handovers/<int:pk>/submit/", views.submit, name="submit"),
    path("handovers/<int:pk>/accept/", views.accept, name="accept"),
    path("handovers/<int:pk>/request-changes/", views.request_changes, name="request_changes"),
    path("handovers/<int:pk>/revise/", views.revise, name="revise"),
    path("handovers/<int:pk>/revalidate/", views.revalidate, name="revalidate"),
    path("handovers/<int:pk>/comments/", views.add_comment, name="comment"),
    path("handovers/<int:pk>/diff/", views.revision_diff, name="diff"),
    path("handovers/<int:pk>/follow/", views.follow, name="follow"),
    path("handovers/<int:pk>/unfollow/", views.unfollow, name="unfollow"),
]
