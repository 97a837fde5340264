"""The JSON API at /api/v1/: its authentication, its docs, and the routers of the apps it serves.

Callers authenticate with ``Authorization: Bearer <token>`` (``manage.py create_api_token``) or a
logged-in session (unsafe methods then need the CSRF token); anyone else gets 401 JSON.
"""

import json

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

import configurations.api
import testruns.api
from accounts.auth import SessionAuth, TokenAuth, docs_access


class ShiftBenchAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation):
        # The ids the OpenAPI document has published since the first version, when every endpoint lived in
        # this module: clients generated from it name their methods by them, wherever the endpoint lives now.
        return f"shiftbench_api_{operation.view_func.__name__}"


class LocalSwagger(Swagger):
    """Swagger UI from ninja's own static files, always: ninja chooses a CDN when "ninja" is not an installed
    app, and it is not one here (settings.NINJA_DIR says why)."""

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            "add_csrf": True,  # SessionAuth checks CSRF: Swagger UI sends the token
        }
        return render(request, self.template, context)


api = ShiftBenchAPI(
    title="ShiftBench API",
    version="1",
    description="Import Shape Shifter configurations, start test runs of them and read their results.",
    auth=[TokenAuth(), SessionAuth()],
    docs=LocalSwagger(),
    docs_decorator=docs_access,
)
api.add_router("/configurations", configurations.api.router)
api.add_router("/test-runs", testruns.api.router)
testruns.api.add_exception_handlers(api)


def login_exempt_urls(api: NinjaAPI):
    """``api.urls`` for the URLconf, each view exempt from LoginRequiredMiddleware's redirect to log in.

    An API caller must get 401 JSON, not a 302 to an HTML form: every operation does its own
    authentication (``auth=``), and the docs their own (``docs_access``). Ninja makes its views itself
    and offers no hook that reaches them, so they are marked here, where they meet the URLconf.
    """
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        login_not_required(pattern.callback)  # sets the flag on the view itself
    return patterns, app_name, namespace
