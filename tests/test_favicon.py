"""The favicon: linked from base.html (so from every page) and served from static/."""

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_page_links_the_favicon(client):
    page = client.get(reverse("login")).content.decode()

    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in page


def test_the_static_finder_serves_the_favicon_as_svg():
    found = finders.find("favicon.svg")

    assert found, "static/favicon.svg: not found by the static finders"
    with open(found, encoding="utf-8") as svg:
        assert svg.read().lstrip().startswith("<svg")
