"""/configurations/<name>/versions/<n>/ (a version's YAML) and the version list on the configuration page."""

import pytest
from django.urls import reverse

from configurations.versioning import save_edited_version

pytestmark = pytest.mark.django_db


def url(number, name="demo"):
    return reverse("configurations:version", args=[name, number])


@pytest.fixture
def v2(demo_version, bob):
    text = demo_version.yaml_text.replace('project_type: "excavation"', 'project_type: "survey"')
    return save_edited_version(demo_version.configuration, text, bob, "projects are surveys")


def test_it_shows_a_version_s_yaml_with_line_numbers(alice_client, v2):
    response = alice_client.get(url(1))

    assert response.status_code == 200
    content = response.content.decode()
    line = '<tr id="L72"><td class="line-no">72</td><td class="code">      project_type: &quot;excavation'
    assert line in content
    assert f'href="{reverse("configurations:diff", args=["demo", 1, 2])}">Diff with current' in content
    assert "Diff with v0" not in content


def test_it_links_the_previous_version(alice_client, v2):
    content = alice_client.get(url(2)).content.decode()

    assert "projects are surveys" in content and "by bob" in content
    assert f'href="{reverse("configurations:diff", args=["demo", 1, 2])}">Diff with v1' in content
    assert "Diff with current" not in content


def test_it_returns_404s(alice_client, v2):
    assert alice_client.get(url(3)).status_code == 404
    assert alice_client.get(url(1, "nope")).status_code == 404


def test_it_lists_versions_with_their_links_on_the_configuration_page(alice_client, v2, demo_version):
    content = alice_client.get(reverse("configurations:detail", args=["demo"])).content.decode()

    assert f'href="{reverse("configurations:edit", args=["demo"])}">Edit</a>' in content
    assert f'<a href="{url(1)}">YAML</a>' in content and f'<a href="{url(2)}">YAML</a>' in content
    assert f'<a href="{reverse("configurations:diff", args=["demo", 1, 2])}">diff with v1</a>' in content
    assert "diff with v0" not in content
    for version in (demo_version, v2):
        assert version.sha256[:10] in content
    assert "projects are surveys" in content and "<td>bob</td>" in content
    assert f'action="{reverse("configurations:diff_pick", args=["demo"])}"' in content
    assert 'name="a" min="1" value="1"' in content and 'name="b" min="1" value="2"' in content


def test_it_offers_to_edit_only_the_current_version(alice_client, v2):
    edit = f'href="{reverse("configurations:edit", args=["demo"])}">Edit</a>'
    assert edit in alice_client.get(url(2)).content.decode()
    assert edit not in alice_client.get(url(1)).content.decode()
