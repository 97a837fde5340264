"""Login throttling with django-axes: who the caller is, and the answer once they are locked out.

Both are plugged into axes by settings (AXES_CLIENT_IP_CALLABLE, AXES_LOCKOUT_CALLABLE); the login form
and API tokens (accounts/auth.py) share them.
"""

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render


def client_ip(request) -> str | None:
    """The caller's address: REMOTE_ADDR, or behind the proxy the address the proxy saw.

    That is the last entry of X-Forwarded-For, the one our proxy appended; entries before it came from
    the client and may be anything.
    """
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response, credentials):
    """429 with Retry-After: JSON to an API caller (whose answer was JSON), the styled page to a browser.

    Careful: axes retries a callable that raises TypeError with another signature, hiding the error.
    """
    cool_off = get_cool_off(request)
    if cool_off:
        minutes = max(round(cool_off.total_seconds() / 60), 1)
        message = (
            f"Too many failed attempts: locked for {minutes} minute{'s' if minutes != 1 else ''}. "
            "Try again later, or ask an administrator to clear the lock."
        )
    else:
        message = "Too many failed attempts: locked until an administrator clears the lock."
    content_type = original_response.get("Content-Type", "") if original_response is not None else ""
    if content_type.startswith("application/json"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
