"""/runs/compare?base=…&head=…: the comparison page, and its link on the run page."""

import shutil
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from testruns.models import Status, TestRun
from tests.factories import DEMO, make_result, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(demo_version, run_demo):
    return run_demo(demo_version, max_rows_per_entity=10), run_demo(demo_version, max_rows_per_entity=50)


def url(base=None, head=None):
    query = "&".join(
        f"{role}={run.pk if isinstance(run, TestRun) else run}"
        for role, run in (("base", base), ("head", head))
        if run is not None
    )
    return reverse("testruns:compare") + (f"?{query}" if query else "")


def test_it_works(alice_client, runs):
    base, head = runs
    response = alice_client.get(url(base, head))

    assert response.status_code == 200
    content = response.content.decode()
    assert f'Compare run <span class="mono">{base.short_id}</span> with' in content
    assert base.get_absolute_url() in content and head.get_absolute_url() in content
    assert "first 10 rows · all entities" in content and "first 50 rows · all entities" in content
    assert "Both runs are of demo v1." in content
    assert '<tr data-entity="abundance" class="entity-changed">' in content
    assert "10 → 50" in content and '<span class="delta-up">+40</span>' in content
    assert "No new, changed or resolved issues" in content
    assert "The runs have different options" in content  # 10 and 50 rows: not like with like
    # the rows: the whole stored tables, diffed in the request (they are small) and kept
    assert '<section id="run-diff">' in content and "hx-trigger" not in content.split('id="run-diff"')[1]
    assert '<tr data-entity="abundance">' in content
    assert f'<option value="{base.pk}" selected>' in content  # the pickers show what is compared


def test_it_shows_new_issues(alice_client, demo_version, run_demo):
    base, head = run_demo(demo_version, entities=["taxa"]), run_demo(demo_version, entities=["taxa"])
    result = head.entity_results.get(entity="taxa")
    result.warnings = ["3 taxa without a family"]
    result.save()

    content = alice_client.get(url(base, head)).content.decode()

    assert "New in head" in content and "3 taxa without a family" in content


def test_it_shows_both_versions_and_entities_present_in_one_run(
    alice_client, alice, demo_version, run_demo, tmp_path
):
    from configurations.importing import import_configuration

    folder = tmp_path / "v2"
    shutil.copytree(DEMO, folder)
    (folder / "demo.yml").write_text(
        (folder / "demo.yml")
        .read_text(encoding="utf-8")
        .replace('columns: ["BNam", "Familie"]', 'columns: ["BNam"]'),
        encoding="utf-8",
    )
    v2, _ = import_configuration(folder / "demo.yml", name="demo", user=alice)
    base, head = run_demo(demo_version, entities=["taxa", "site"]), run_demo(v2, entities=["taxa"])

    content = alice_client.get(url(base, head)).content.decode()

    assert "The runs are of different versions: v1 and v2." in content
    diff_url = reverse("configurations:diff", args=["demo", 1, 2])
    assert f'<a href="{diff_url}">What changed between v1 and v2</a>' in content
    assert '<span class="delta-down mono">−Familie</span>' in content
    assert "only in base" in content
    summary = content.split('id="compare-summary"')[1].split("</section>")[0]
    assert "1 only in base" not in summary and "2 only in base, 0 only in head" in summary


def test_it_says_when_the_configurations_differ(alice_client, alice, demo_version, run_demo, tmp_path):
    from configurations.importing import import_configuration

    folder = tmp_path / "other"
    shutil.copytree(DEMO, folder)
    other, _ = import_configuration(folder / "demo.yml", name="other", user=alice)
    base, head = run_demo(demo_version, entities=["site"]), run_demo(other, entities=["site"])

    content = alice_client.get(url(base, head)).content.decode()

    assert "The runs are of different configurations (demo and other)" in content


def test_it_offers_a_form_without_runs_to_compare(alice_client, runs):
    response = alice_client.get(url())

    assert response.status_code == 200
    content = response.content.decode()
    assert '<select name="base">' in content and '<select name="head">' in content
    assert all(str(run.pk) in content for run in runs)
    assert "Entities" not in content


def test_it_rejects_a_missing_run(alice_client, runs):
    response = alice_client.get(url(base=runs[0]))

    assert response.status_code == 400
    assert "Choose a head run: ?head=&lt;run id&gt; is missing." in response.content.decode()


def test_it_rejects_a_malformed_id(alice_client, runs):
    response = alice_client.get(url(base="nope", head=runs[1]))

    assert response.status_code == 400
    assert "base: &#x27;nope&#x27; is not a run id" in response.content.decode()


def test_it_returns_404_for_an_unknown_run(alice_client, runs):
    unknown = uuid.uuid4()

    response = alice_client.get(url(base=runs[0], head=unknown))

    assert response.status_code == 404
    assert f"No run {unknown} (head)." in response.content.decode()


def test_it_costs_a_fixed_number_of_queries(alice_client, demo_version, run_demo, django_assert_num_queries):
    small = run_demo(demo_version, entities=["site"]), run_demo(demo_version, entities=["site"])
    large = run_demo(demo_version), run_demo(demo_version)
    for base, head in (small, large):
        alice_client.get(url(base, head))  # diffs the tables, and keeps the diff

    # session, user, the two runs, their entity results, the runs offered in the pickers, the kept diff
    for base, head in (small, large):
        with django_assert_num_queries(6):
            assert alice_client.get(url(base, head)).status_code == 200


# --- the link on the run page -------------------------------------------------------------------------------


def test_it_is_linked_from_the_run_page(alice_client, runs):
    base, head = runs

    content = alice_client.get(head.get_absolute_url()).content.decode()

    assert (
        f'href="{reverse("testruns:compare")}?base={base.pk}&amp;head={head.pk}">Compare with previous run'
        in content
    )


def test_it_says_when_the_previous_run_has_other_options(alice_client, demo_version, run_demo):
    ten, fifty = (
        run_demo(demo_version, max_rows_per_entity=10),
        run_demo(demo_version, max_rows_per_entity=50),
    )
    again = run_demo(demo_version, max_rows_per_entity=10)

    other_options = alice_client.get(fifty.get_absolute_url()).content.decode()
    like = alice_client.get(again.get_absolute_url()).content.decode()

    assert f"?base={ten.pk}&amp;head={fifty.pk}" in other_options
    assert "with other options (first 10 rows · all entities): no earlier run has this one's" in other_options
    assert f"?base={ten.pk}&amp;head={again.pk}" in like  # like with like: the run of 10 rows, not the latest
    assert "options-differ" not in like  # (the trend may still count runs with other options)


def test_it_is_not_linked_without_a_previous_run(alice_client, demo_version):
    run = make_run(
        demo_version,
        status=Status.COMPLETED,
        finished_at=timezone.now(),
    )

    assert "Compare with previous run" not in alice_client.get(run.get_absolute_url()).content.decode()


def test_it_shows_the_format_each_run_read_its_configuration_in(alice_client):
    from tests.factories import make_version

    detected = make_version("old", 1, format_version=1)
    forced = make_version("old", 2, format_version=2, format_forced=True, current=True)
    base, head = make_run(detected, Status.COMPLETED), make_run(forced, Status.COMPLETED)

    content = alice_client.get(url(base, head)).content.decode()
    same = alice_client.get(url(head, head)).content.decode()

    assert "format 1</span>" in content and "format 2 · forced</span>" in content
    assert (
        "read their configurations in different formats (base format 1, detected, head format 2, forced)"
        in content
    )
    assert "different formats" not in same


# --- what changed, first ------------------------------------------------------------------------------------


def entities_section(content: str) -> str:
    return content.split('id="compare-entities"')[1].split("</section>")[0]


def test_it_lists_the_changed_entities_and_counts_the_others(alice_client, runs):
    base, head = runs

    changed_only = entities_section(alice_client.get(url(base, head)).content.decode())
    everything = entities_section(alice_client.get(url(base, head) + "&entities=all").content.decode())

    assert 'data-entity="abundance"' in changed_only  # 10 and 50 rows: it grew
    assert 'data-entity="record_type"' not in changed_only  # fixed values: the same in both
    show_all = (
        f"{reverse('testruns:compare')}?base={base.pk}&amp;head={head.pk}&amp;entities=all#compare-entities"
    )
    assert f'3 entities unchanged</span>, <a class="show-all" href="{show_all}">show them</a>' in changed_only
    assert 'data-entity="record_type"' in everything and 'data-entity="abundance"' in everything
    assert "8 changed, 3 unchanged." in everything and "Show the changed ones only" in everything


def test_an_entity_whose_rows_differ_is_changed(alice_client, demo_version):
    def run_with(content: bytes):
        run = make_run(demo_version, Status.COMPLETED, finished_at=timezone.now())
        make_result(
            run, "notes", status="success", rows_in=1, rows_out=1, columns=["id", "text"], content=content
        )
        make_result(run, "same", status="success", rows_in=1, rows_out=1, columns=["id"], content=b"id\n1\n")
        return run

    base, head = run_with(b"id,text\n1,old\n"), run_with(b"id,text\n1,new\n")

    section = entities_section(alice_client.get(url(base, head)).content.decode())

    assert '<tr data-entity="notes" class="entity-changed">' in section and "rows differ" in section
    assert 'data-entity="same"' not in section and "1 entity unchanged" in section


def test_a_count_that_changed_is_one_row(alice_client, demo_version, run_demo):
    base, head = run_demo(demo_version, entities=["taxa"]), run_demo(demo_version, entities=["taxa"])
    for run, count in ((base, 3), (head, 5)):
        run.entity_results.filter(entity="taxa").update(warnings=[f"{count} taxa without a family"])

    content = alice_client.get(url(base, head)).content.decode()

    issues = content.split('id="compare-issues"')[1].split("</section>")[0]
    assert "New in head" not in issues and "Resolved since base" not in issues
    assert "5 taxa without a family" in issues and "<del>3</del> → <ins>5</ins>" in issues
    assert '<span class="warn">1 changed</span>' in entities_section(content)
