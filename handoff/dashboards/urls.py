app_name = "dashboards"

# The team dashboard, its CSV and the index of dashboards a person may open.
urlpatterns = []
