"""The admin site carries the product's name, not "Django administration"."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_admin_login_page_is_titled_shiftbench(client):
    page = client.get(reverse("admin:login")).content.decode()

    assert "<title>Log in | ShiftBench admin</title>" in page
    assert "Django administration" not in page
    assert ">ShiftBench admin</a>" in page


def test_the_admin_index_is_titled_shiftbench(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert "<title>Administration | ShiftBench admin</title>" in page
    assert "<h1>Site administration</h1>" not in page
