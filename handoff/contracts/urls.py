from django.urls import path

from . import views

app_name = "contracts"
urlpatterns = [
    # --- contract pages, the comparison and selection
    path("contracts/", views.contract_list, name="list"),
    path("contracts/new/", views.new_contract, name="new"),
    path("contracts/<int:pk>/", views.contract_detail, name="detail"),
    path("contracts/<int:pk>/edit/", views.edit_contract, name="edit"),
    path("contracts/<int:pk>/files/", views.upload_file, name="upload"),
    path("contracts/<int:pk>/files/<int:artifact_pk>/", views.download_file, name="download_file"),
    path("contracts/<int:pk>/files/<int:artifact_pk>/remove/", views.remove_file, name="remove_file"),
    path("contracts/<int:pk>/propose/", views.propose, name="propose"),
    path("contracts/<int:pk>/sign/", views.sign, name="sign"),
    path("contracts/<int:pk>/new-version/", views.new_version, name="new_version"),
    path("contracts/<int:pk>/close/", views.close, name="close"),
    path("contracts/<int:pk>/comments/", views.add_comment, name="comment"),
    path("contracts/<int:pk>/diff/", views.contract_diff, name="diff"),
    path("contracts/<int:pk>/candidates/new/", views.new_candidate, name="new_candidate"),
    path("contracts/<int:pk>/comparison/", views.comparison, name="comparison"),
    path("handovers/<int:pk>/select/", views.select, name="select"),
    # --- end of contract pages
]

# --- the model card of an accepted handover (card_views) ---
from . import card_views  # noqa: E402

urlpatterns += [
    path("handovers/<int:pk>/model-card.md", card_views.model_card_markdown, name="model_card_markdown"),
    path("handovers/<int:pk>/model-card/", card_views.model_card_page, name="model_card"),
]
