"""Template context every page needs."""

from django.conf import settings


def htmx(request):
    return {"htmx_version": settings.HTMX_VERSION}
