"""How the JSON API knows who calls it: a bearer API token, or the browser's logged-in session."""

from axes.handlers.proxy import AxesProxyHandler
from csp.decorators import csp_update
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from accounts.models import ApiToken

# What a failed token is recorded as among django-axes' login attempts: no user name has a space, so
# token failures are counted per address, apart from any user's password failures.
TOKEN_CREDENTIALS = {"username": "(API token)"}


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``, a token from ``manage.py create_api_token``; no cookie, no CSRF.

    A wrong token counts as a failed login, so guessing is throttled as passwords are (settings: login
    throttling): past the limit, the address gets 429 with Retry-After, its right tokens included.
    """

    def authenticate(self, request, token):
        user = None
        if AxesProxyHandler.is_allowed(request, TOKEN_CREDENTIALS):
            user = ApiToken.objects.authenticate(token)
        if user is None:
            # axes records it and, at the limit, flags the request; its middleware then answers 429.
            user_login_failed.send(sender=__name__, credentials=TOKEN_CREDENTIALS, request=request)
            return None
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The logged-in session; unsafe methods also need the CSRF token, as any form post does.

    Ninja's own class checks CSRF before it looks at the user, so an anonymous POST would get
    "403 CSRF check failed" instead of 401; here an anonymous caller is simply not authenticated.
    """

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


def api_user(request):
    """The user calling with a valid bearer token or session, or None."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return TokenAuth()(request)


def docs_access(view):
    """Let logged-in users (or token holders) read the API docs; others are sent to log in.

    The OpenAPI JSON answers a caller without credentials with 401 JSON like every other API URL.
    """

    # The one loosening of the Content-Security-Policy: Swagger UI's stylesheet draws its icons (select
    # arrows, expanders) from data: URLs. Images only; scripts and styles stay 'self'.
    @csp_update({"img-src": ["data:"]})
    def wrapper(request, *args, **kwargs):
        if api_user(request) is not None:
            return view(request, *args, **kwargs)
        if request.path.endswith(".json"):
            return JsonResponse({"detail": "Unauthorized"}, status=401)
        return redirect_to_login(request.get_full_path())

    return wrapper
