"""/runs/compare?base=…&head=…: the comparison page, and its link on the run page."""

import shutil
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from testruns.models import Status, TestRun
from tests.factories import DEMO, make_run

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
    assert "No new or resolved issues" in content
    assert '<details class="row-diff" id="rows-sample_type" data-entity="sample_type" open>' in content
    assert 'class="row-added"' in content
    assert 'matched on keys <span class="mono">BNam</span>' in content
    # 40 rows added: folded, its table fetched when opened, or shown by a plain link without JavaScript
    compare_url = f"{reverse('testruns:compare')}?base={base.pk}&amp;head={head.pk}"
    assert f'hx-get="{compare_url}&amp;entity=abundance" hx-trigger="toggle once"' in content
    assert f'<a href="{compare_url}&amp;expand=abundance#rows-abundance">Show the 40 rows</a>' in content
    assert f'<option value="{base.pk}" selected>' in content  # the pickers show what is compared


def test_it_highlights_changed_cells_and_new_issues(alice_client, demo_version, run_demo):
    base, head = run_demo(demo_version, entities=["taxa"]), run_demo(demo_version, entities=["taxa"])
    result = head.entity_results.get(entity="taxa")
    result.preview[0][result.columns.index("Familie")] = "Renamedaceae"
    result.warnings = ["3 taxa without a family"]
    result.save()

    content = alice_client.get(url(base, head)).content.decode()

    assert (
        '<td class="cell-changed" title="Familie"><del>Poaceae</del> → <ins>Renamedaceae</ins></td>'
        in content
    )
    assert '0 added</span>, <span class="delta-down">0 removed</span>, 1 changed' in content
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
    assert "1 only in base" not in content and "2 only in base, 0 only in head" in content


def test_it_says_when_the_configurations_differ(alice_client, alice, demo_version, run_demo, tmp_path):
    from configurations.importing import import_configuration

    folder = tmp_path / "other"
    shutil.copytree(DEMO, folder)
    other, _ = import_configuration(folder / "demo.yml", name="other", user=alice)
    base, head = run_demo(demo_version, entities=["site"]), run_demo(other, entities=["site"])

    content = alice_client.get(url(base, head)).content.decode()

    assert "The runs are of different configurations (demo and other)" in content


def test_it_unfolds_a_row_diff_on_request(alice_client, runs):
    content = alice_client.get(url(*runs) + "&expand=abundance").content.decode()

    assert '<details class="row-diff" id="rows-abundance" data-entity="abundance" open>' in content
    assert content.count('class="row-added"') > 40


def test_it_returns_one_row_diff_alone(alice_client, runs, django_assert_num_queries):
    alice_client.get(url(*runs))  # reads the version's keys once

    # session, user, the two runs, their entity results
    with django_assert_num_queries(4):
        response = alice_client.get(url(*runs) + "&entity=abundance", headers={"HX-Request": "true"})

    content = response.content.decode()
    assert content.startswith('<div class="scroll row-table">')
    assert content.count('<tr class="row-added">') == 40
    assert "<html" not in content


def test_it_returns_404_for_an_entity_without_row_differences(alice_client, runs):
    response = alice_client.get(url(*runs) + "&entity=record_type")

    assert response.status_code == 404
    content = response.content.decode()
    assert "No row differences for entity &#x27;record_type&#x27; in this comparison." in content


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
    demo_version.materialize()  # built by the runs already; the page only reads the keys from it

    # session, user, the two runs, their entity results, the runs offered in the pickers
    for base, head in (small, large):
        with django_assert_num_queries(5):
            assert alice_client.get(url(base, head)).status_code == 200


# --- the link on the run page -------------------------------------------------------------------------------


def test_it_is_linked_from_the_run_page(alice_client, runs):
    base, head = runs

    content = alice_client.get(head.get_absolute_url()).content.decode()

    assert (
        f'href="{reverse("testruns:compare")}?base={base.pk}&amp;head={head.pk}">Compare with previous run'
        in content
    )


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
