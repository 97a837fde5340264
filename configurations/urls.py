from django.urls import path

from configurations import views

app_name = "configurations"

# /configurations/
urlpatterns = [
    path("", views.configuration_list, name="list"),
    path("import/", views.configuration_import, name="import"),
    path("<slug:name>/", views.configuration_detail, name="detail"),
    path("<slug:name>/test-run", views.test_run, name="test_run"),
]
