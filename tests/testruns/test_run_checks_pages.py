"""The checks of a run on its pages: the run page's Checks section (also sent with the status partial's last
poll), an entity page's checks with their failing rows, and the runs history's verdict."""

import pytest
from django.urls import reverse

from testruns.models import Status
from tests.factories import add_check, make_checked_run, make_run

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def checked(demo_version, alice):
    return make_checked_run(demo_version, alice)


def run_page(client, run) -> str:
    return client.get(reverse("testruns:detail", args=[run.pk])).content.decode()


def section(content: str, start: str) -> str:
    """The HTML from ``start`` to the end of its section."""
    begin = content.index(start)
    return content[begin : content.index("</section>", begin)]


def test_the_run_page_shows_the_failed_checks_with_their_failing_rows(alice_client, checked):
    checks = section(run_page(alice_client, checked), '<section id="run-checks"')

    assert "<h2>Checks" in checks
    assert '<span class="bad">1 failed</span>' in checks
    assert '<span class="warn">1 failed at warning level</span>' in checks
    assert "from Mini model 1.0 (mini.yml, chosen for the configuration);" in checks
    # failed checks first, errors before warnings; each links its entity's page
    error, warning = checks.index("has 25 null values"), checks.index("are not integer")
    skipped, passed = (
        checks.index("<summary>1 skipped</summary>"),
        checks.index("<summary>1 passed</summary>"),
    )
    assert error < warning < skipped < passed
    assert reverse("testruns:entity", args=[checked.pk, "site"]) in checks
    assert "first 20 of 25 failing rows" in checks
    assert checks.count('<span class="null">∅</span>') == 20
    assert "the 1 failing row" in checks and "<td>x</td>" in checks


def test_the_run_page_gives_the_verdict_with_the_failed_checks(alice_client, checked):
    content = run_page(alice_client, checked)

    assert '<span class="bad run-verdict">1 check failed</span>' in content
    assert 'data-status="failed"' in section(content, '<section id="run-status"')


def test_a_run_without_checks_has_an_empty_checks_section(alice_client, demo_version):
    run = make_run(demo_version, Status.COMPLETED, ["site"], entities_total=1, entities_completed=1)

    content = run_page(alice_client, run)

    assert '<section id="run-checks" class="checks">\n\n</section>' in content


def test_the_run_page_reads_the_checks_in_one_more_query(alice_client, checked, django_assert_num_queries):
    # session, user, run (with configuration, versions, requester), previous run, entity results, events,
    # the configuration's baseline, the trend's runs and their entity results (the run ran to its end),
    # checks: one query more than a run without checks, however many checks; whether its tables fit an
    # Excel workbook: one
    with django_assert_num_queries(11):
        alice_client.get(reverse("testruns:detail", args=[checked.pk]))
    for position in range(4, 40):
        add_check(checked, position, "site", "unique", "passed")
    with django_assert_num_queries(11):
        alice_client.get(reverse("testruns:detail", args=[checked.pk]))


def status_url(run) -> str:
    return reverse("testruns:status", args=[run.pk]) + "?seen=ss&event=0"


def test_the_last_poll_brings_the_checks_out_of_band(alice_client, checked, django_assert_num_queries):
    # session, user, run, entity results, events, checks, whether its tables fit an Excel workbook
    with django_assert_num_queries(7):
        response = alice_client.get(status_url(checked), headers=HX)

    content = response.content.decode()
    assert '<section id="run-checks" class="checks" hx-swap-oob="true">' in content
    assert "has 25 null values" in content


def test_a_poll_of_an_active_run_sends_no_checks(alice_client, checked, django_assert_num_queries):
    checked.status = Status.RUNNING
    checked.save(update_fields=["status"])

    with django_assert_num_queries(5):
        content = alice_client.get(status_url(checked), headers=HX).content.decode()

    assert "run-checks" not in content


def entity_page(client, run, name) -> str:
    return client.get(reverse("testruns:entity", args=[run.pk, name])).content.decode()


def test_the_entity_page_shows_its_own_checks_with_their_failing_rows_open(alice_client, checked):
    checks = section(entity_page(alice_client, checked, "site"), '<section id="entity-checks"')

    assert "has 25 null values" in checks
    assert '<details class="check-sample" open>' in checks
    assert "first 20 of 25 failing rows" in checks
    assert "produced a table (3 rows)" in checks  # its passed check, folded
    assert "are not integer" not in checks  # sample's


def test_the_entity_page_reads_its_checks_in_one_more_query(alice_client, checked, django_assert_num_queries):
    # session, user, the run, the entity result, its checks
    with django_assert_num_queries(5):
        assert alice_client.get(reverse("testruns:entity", args=[checked.pk, "sample"])).status_code == 200


def test_an_entity_page_of_a_run_without_checks_has_no_checks_section(alice_client, demo_version):
    run = make_run(demo_version, Status.COMPLETED, ["site"], entities_total=1, entities_completed=1)

    assert 'id="entity-checks"' not in entity_page(alice_client, run, "site")


def test_the_history_lists_a_run_failed_by_its_checks_under_failed(alice_client, checked):
    content = alice_client.get(reverse("testruns:list") + "?status=failed").content.decode()

    assert checked.short_id in content
    assert "(1 check failed)" in content


def test_a_check_of_an_entity_the_run_lacks_names_it_without_a_link(alice_client, checked):
    add_check(
        checked,
        4,
        "project",
        "required_entity",
        "failed",
        message="the target model requires entity 'project'",
    )

    checks = section(run_page(alice_client, checked), '<section id="run-checks"')

    assert '<span class="check-entity" title="not an entity of this run">project</span>' in checks
    assert reverse("testruns:entity", args=[checked.pk, "project"]) not in checks
    assert f'href="{reverse("testruns:entity", args=[checked.pk, "site"])}"' in checks
