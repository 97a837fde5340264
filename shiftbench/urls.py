from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from shiftbench.api import api, login_exempt_urls
from testruns import views as testrun_views

urlpatterns = [
    path("", testrun_views.dashboard, name="dashboard"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("configurations/", include("configurations.urls")),
    path("", include("testruns.urls")),  # /runs/… and /configurations/<name>/test-run
    path("api/v1/", login_exempt_urls(api)),
    path("admin/", admin.site.urls),
]

# Styled error pages (used when DEBUG is off); 403 and 500 are Django's views with our templates.
handler400 = "shiftbench.views.bad_request"
handler404 = "shiftbench.views.page_not_found"
