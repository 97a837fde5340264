from django.urls import path

from configurations import views

app_name = "configurations"

# /configurations/ (…/<name>/test-run, the test-run form, is a page of the runs app, mounted beside these)
urlpatterns = [
    path("", views.configuration_list, name="list"),
    path("import/", views.configuration_import, name="import"),
    path("<slug:name>/", views.configuration_detail, name="detail"),
    path("<slug:name>/edit", views.configuration_edit, name="edit"),
    path("<slug:name>/validate", views.configuration_validate, name="validate"),
    path("<slug:name>/target-model", views.configuration_target_model, name="target_model"),
    # /configurations/<name>/versions/
    path("<slug:name>/versions/<int:number>/", views.version_yaml, name="version"),
    path("<slug:name>/versions/<int:number>/restore", views.version_restore, name="restore"),
    path("<slug:name>/versions/<int:number>/yaml", views.version_download_yaml, name="download_yaml"),
    path(
        "<slug:name>/versions/<int:number>/bundle.zip", views.version_download_bundle, name="download_bundle"
    ),
    path("<slug:name>/versions/<int:a>..<int:b>", views.version_diff, name="diff"),
    path("<slug:name>/versions/diff", views.version_diff_pick, name="diff_pick"),
]
