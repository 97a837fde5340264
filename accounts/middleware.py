"""Logging in from pages that update themselves: a logged-out htmx request is sent to the login page."""

from django.contrib.auth import middleware
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    """Django's: a logged-out request goes to the login page; one made by htmx is told to go there itself.

    A poll or a click of a page whose session expired would otherwise follow the redirect in the background
    and swap the login form into a piece of the page, or keep showing a stale page. Instead the answer is
    HX-Redirect to the login page, with ``next`` the page the user is on (HX-Current-URL, when it is this
    site's), so logging in brings them back to it rather than to the partial that was polled.
    """

    def handle_no_permission(self, request, view_func):
        htmx = HtmxDetails(request)  # request.htmx, which HtmxMiddleware sets only after this one
        if not htmx:
            return super().handle_no_permission(request, view_func)
        login_url = resolve_url(self.get_login_url(view_func))
        page = htmx.current_url_abs_path
        if page:
            login_url = redirect_to_login(page, login_url, self.get_redirect_field_name(view_func)).url
        return HttpResponseClientRedirect(login_url)
