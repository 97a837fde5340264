"""Every `file:line` of a version's main YAML on the pages is a link to that line: the editor for the current
version, the version's listing for an older one (configurations.templatetags.configurations)."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from configurations.templatetags.configurations import line_url, main_file_line, parse_location
from configurations.versioning import save_edited_version
from testruns.models import Status
from tests.factories import make_result, make_run

pytestmark = pytest.mark.django_db

GOOD, BAD = "entity: project", "entity: nothing"  # the demo's site → project foreign key, made unknown
ISSUE_LINE = 83  # where the demo puts that fk_unknown_entity issue (test_edit_page.py)


def edit_at(line):
    return reverse("configurations:edit", args=["demo"]) + f"?line={line}"


def listing_at(number, line):
    return reverse("configurations:version", args=["demo", number]) + f"#L{line}"


@pytest.fixture
def v2(demo_version, alice):
    """The current version, with the unknown-entity error issue at demo.yml:83."""
    return save_edited_version(
        demo_version.configuration, demo_version.yaml_text.replace(GOOD, BAD), alice, "unknown entity"
    )


@pytest.mark.parametrize(
    "location, expected",
    [
        ("demo.yml:80", ("demo.yml", 80)),
        ("sub/dir/x.yml:7", ("sub/dir/x.yml", 7)),
        ("entities.site.keys", ("entities.site.keys", None)),
        ("demo.yml:0", ("demo.yml:0", None)),
        ("demo.yml:", ("demo.yml:", None)),
        (":12", (":12", None)),
        ("", ("", None)),
        (None, ("", None)),
    ],
)
def test_parse_location_reads_file_and_line(location, expected):
    assert parse_location(location) == expected


def test_main_file_line_is_only_for_the_main_yaml(demo_version):
    assert main_file_line("demo.yml:12", demo_version) == 12
    assert main_file_line("included.yml:12", demo_version) is None
    assert main_file_line("demo.yml", demo_version) is None
    assert main_file_line("demo.yml:12", None) is None


def test_line_url_opens_the_current_version_in_the_editor_and_an_older_one_in_its_listing(demo_version, v2):
    configuration = v2.configuration
    configuration.refresh_from_db()

    assert line_url(configuration, v2, location="demo.yml:83") == edit_at(83)
    assert line_url(configuration, demo_version, location="demo.yml:83") == listing_at(1, 83)
    assert line_url(configuration, v2, file="demo.yml", line=3) == edit_at(3)
    assert line_url(configuration, v2, location="other.yml:3") == ""
    assert line_url(configuration, v2, file="demo.yml", line=None) == ""
    assert line_url(None, v2, location="demo.yml:3") == ""
    assert line_url(configuration, None, location="demo.yml:3") == ""


def test_it_reads_nothing_from_the_database(v2, django_assert_num_queries):
    configuration = v2.configuration
    template = Template("{% load configurations %}{% line_url configuration version location=location %}")
    with django_assert_num_queries(0):
        rendered = template.render(
            Context({"configuration": configuration, "version": v2, "location": "demo.yml:5"})
        )
    assert rendered == edit_at(5)


def test_the_configuration_page_links_an_issue_to_the_editor(alice_client, v2):
    content = alice_client.get(reverse("configurations:detail", args=["demo"])).content.decode()

    assert f'<a class="mono small issue-location" href="{edit_at(ISSUE_LINE)}"' in content
    assert f">demo.yml:{ISSUE_LINE}</a>" in content


def test_the_page_of_an_older_version_links_an_issue_to_its_listing(alice_client, v2, alice):
    # v3 fixes it: v2's issue now lives only in v2, whose lines the editor no longer shows.
    save_edited_version(v2.configuration, v2.yaml_text.replace(BAD, GOOD), alice, "fixed")
    content = alice_client.get(
        reverse("configurations:detail", args=["demo"]) + "?version=2"
    ).content.decode()

    assert f'href="{listing_at(2, ISSUE_LINE)}"' in content
    assert "?line=" not in content


def test_the_version_page_marks_and_links_its_issues(alice_client, v2):
    content = alice_client.get(reverse("configurations:version", args=["demo", 2])).content.decode()

    assert f'<tr id="L{ISSUE_LINE}" class="line-error"><td class="line-no">{ISSUE_LINE}</td>' in content
    assert f'<tr id="L{ISSUE_LINE + 1}"><td class="line-no">' in content
    assert f'href="{edit_at(ISSUE_LINE)}"' in content  # v2 is current: its lines open in the editor


def test_the_version_page_links_the_line_where_it_does_not_load(alice_client, demo_version, alice):
    save_edited_version(demo_version.configuration, "entities:\n  a: [\n", alice, "broken")
    content = alice_client.get(reverse("configurations:version", args=["demo", 2])).content.decode()

    assert '<details class="version-validation" open>' in content
    assert f'<a class="issue-location" href="{edit_at(3)}">file demo.yml, line 3</a>' in content


def test_the_entity_page_links_a_run_s_issue_to_its_version_s_line(alice_client, v2, alice):
    issue = {"severity": "error", "code": "fk_unknown_entity", "entity": "site", "message": "m"}
    run = make_run(v2, status=Status.FAILED, requested_by=alice)
    make_result(
        run,
        "site",
        status="failed",
        issues=[
            {**issue, "location": f"demo.yml:{ISSUE_LINE}"},
            {**issue, "location": "other.yml:4"},
            {**issue, "location": "entities.site"},
        ],
    )
    url = reverse("testruns:entity", args=[run.pk, "site"])

    content = alice_client.get(url).content.decode()
    assert f'href="{edit_at(ISSUE_LINE)}"' in content
    assert '<span class="mono muted small">other.yml:4</span>' in content
    assert '<span class="mono muted small">entities.site</span>' in content

    # Once the configuration has moved on, the run's lines are those of its own version.
    save_edited_version(v2.configuration, v2.yaml_text.replace(BAD, GOOD), alice, "fixed")
    content = alice_client.get(url).content.decode()
    assert f'href="{listing_at(2, ISSUE_LINE)}"' in content and "?line=" not in content
