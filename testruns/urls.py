from django.urls import path

from testruns import views

app_name = "testruns"

# /runs/
urlpatterns = [
    path("", views.run_list, name="list"),
    path("compare", views.run_compare, name="compare"),
]

# /runs/<uuid:run_id>/
urlpatterns += [
    path("<uuid:run_id>/", views.run_detail, name="detail"),
    path("<uuid:run_id>/status", views.run_status, name="status"),
    path("<uuid:run_id>/cancel", views.run_cancel, name="cancel"),
    path("<uuid:run_id>/rerun", views.run_rerun, name="rerun"),
    path("<uuid:run_id>/rerun-current", views.run_rerun, {"current_version": True}, name="rerun_current"),
    path("<uuid:run_id>/delete", views.run_delete, name="delete"),
    path("<uuid:run_id>/pin", views.run_pin, name="pin"),
    path("<uuid:run_id>/entities/<path:name>/", views.entity_detail, name="entity"),
    path("<uuid:run_id>/entities/<path:name>/csv", views.entity_csv, name="entity_csv"),
    path("<uuid:run_id>/export.json", views.export_json, name="export_json"),
    path("<uuid:run_id>/export.zip", views.export_zip, name="export_zip"),
    path("<uuid:run_id>/export.xlsx", views.export_xlsx, name="export_xlsx"),
]
