from django.urls import include, path

from testruns import views

app_name = "testruns"

# /runs/<uuid:run_id>/
run_urlpatterns = [
    path("", views.run_detail, name="detail"),
    path("status", views.run_status, name="status"),
    path("cancel", views.run_cancel, name="cancel"),
    path("rerun", views.run_rerun, name="rerun"),
    path("rerun-current", views.run_rerun, {"current_version": True}, name="rerun_current"),
    path("delete", views.run_delete, name="delete"),
    path("pin", views.run_pin, name="pin"),
    path("baseline", views.run_baseline, name="baseline"),
    path("make-baseline", views.make_baseline, name="make_baseline"),
    path("clear-baseline", views.clear_baseline, name="clear_baseline"),
    path("entities/<path:name>/", views.entity_detail, name="entity"),
    path("entities/<path:name>/csv", views.entity_csv, name="entity_csv"),
    path("entities/<path:name>/view.csv", views.entity_view_csv, name="entity_view_csv"),
    path("entities/<path:name>/view.xlsx", views.entity_view_xlsx, name="entity_view_xlsx"),
    path("export.json", views.export_json, name="export_json"),
    path("export.zip", views.export_zip, name="export_zip"),
    path("export.xlsx", views.export_xlsx, name="export_xlsx"),
]

# Mounted at the site's root (shiftbench/urls.py): the test-run form lives beside its configuration's pages.
urlpatterns = [
    path("configurations/<slug:name>/test-run", views.run_start, name="start"),
    # /runs/
    path("runs/", views.run_list, name="list"),
    path("runs/compare", views.run_compare, name="compare"),
    path("runs/compare/diff", views.compare_diff, name="compare_diff"),
    path("runs/<uuid:run_id>/", include(run_urlpatterns)),
]
