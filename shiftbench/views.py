"""The 400 and 404 pages: Django's, with the message our own views raised shown (escaped) on the page.

403 and 500 are Django's own views with our ``403.html`` and ``500.html``. Every error page extends
base.html and echoes values only through autoescaped template variables.
"""

from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.template import loader


def bad_request(request, exception):
    """400. A ``BadRequest`` our views raise says what was wrong; any other cause (a SuspiciousOperation
    such as an unknown Host) is not explained, as Django's own page does not, for it may say too much.

    Rendered without the request, as Django does: its context processors may touch what made it bad.
    """
    message = str(exception) if type(exception) is BadRequest else ""
    return HttpResponseBadRequest(loader.get_template("400.html").render({"message": message}))


def page_not_found(request, exception):
    """404, with the message of an ``Http404("…")`` a view raised, else the path that names no page."""
    message = ""
    if type(exception) is Http404 and exception.args and isinstance(exception.args[0], str):
        message = exception.args[0]
    return render(request, "404.html", {"message": message}, status=404)
