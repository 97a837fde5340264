"""/configurations/<name>/versions/<a>..<b>: the YAML's unified diff and the bundled files that changed."""

import pytest
from django.urls import reverse

from configurations.importing import import_configuration
from configurations.versioning import diff_versions, save_edited_version
from tests.factories import make_run

pytestmark = pytest.mark.django_db


def url(a, b, name="demo"):
    return reverse("configurations:diff", args=[name, a, b])


@pytest.fixture
def v2(demo_version, alice):
    text = demo_version.yaml_text.replace('project_type: "excavation"', 'project_type: "survey"')
    return save_edited_version(demo_version.configuration, text, alice, "projects are surveys")


def test_it_has_the_documented_address(db):
    assert url(1, 2) == "/configurations/demo/versions/1..2"


def test_it_shows_changed_lines(alice_client, v2):
    response = alice_client.get(url(1, 2))

    assert response.status_code == 200
    content = response.content.decode()
    removed = content.index('<tr class="diff-removed"><td class="line-no">72</td><td class="line-no"></td>')
    added = content.index('<tr class="diff-added"><td class="line-no"></td><td class="line-no">72</td>')
    assert removed < added
    assert "project_type: &quot;excavation&quot;" in content[removed:added]
    assert "project_type: &quot;survey&quot;" in content[added:]
    assert '<tr class="diff-hunk">' in content and "@@ -69,7 +69,7 @@" in content
    assert '+1</span> <span class="diff-count-removed">−1' in content
    assert "projects are surveys" in content
    # the data file is the same StoredFile; only the YAML changed
    assert '<td class="mono">demo.yml</td>' in content
    assert '<td class="mono">survey.csv</td>' not in content
    assert "1 changed, 1 file the same in both." in content


def test_it_shows_added_removed_and_changed_files(alice_client, alice, write_config):
    base = "entities:\n  a:\n    type: fixed\n    surrogate_id: a_id\n    columns: [x]\n    values: [[1]]\n"
    v1, _ = import_configuration(
        write_config(
            base + "  b:\n    type: csv\n    options: {filename: b.csv}\n    columns: [y]\n",
            name="f.yml",
            b__csv="y\n1\n",
        ),
        name="f",
        user=alice,
    )
    path = write_config(
        base + "  c:\n    type: csv\n    options: {filename: c.csv}\n    columns: [z]\n",
        name="f.yml",
        c__csv="z\n1\n",
    )
    path.with_name("b.csv").unlink()
    v2, _ = import_configuration(path, name="f", user=alice)

    content = alice_client.get(url(1, 2, "f")).content.decode()

    for path, change in [("b.csv", "removed"), ("c.csv", "added"), ("f.yml", "changed")]:
        assert f'<tr class="file-{change}">\n        <td class="mono">{path}</td>' in content
    assert v1.files.get(path="b.csv").stored_id[:10] in content
    assert "3 changed, 0 files the same in both." in content


def test_it_says_when_versions_are_identical(alice_client, v2):
    content = alice_client.get(url(2, 2)).content.decode()
    assert "v2 and v2 are identical" in content
    assert '<tr class="diff-' not in content


def test_it_diffs_backwards(alice_client, v2):
    content = alice_client.get(url(2, 1)).content.decode()
    assert "project_type: &quot;excavation&quot;" in content.split('<tr class="diff-added">')[1]


def test_it_returns_404_for_unknown_versions(alice_client, v2):
    assert alice_client.get(url(1, 3)).status_code == 404
    assert alice_client.get(url(9, 1)).status_code == 404
    assert alice_client.get(url(1, 2, "nope")).status_code == 404
    assert alice_client.get("/configurations/demo/versions/1..x").status_code == 404


def test_it_has_a_form_to_pick_the_versions(alice_client, v2):
    content = alice_client.get(url(1, 2)).content.decode()
    assert f'action="{reverse("configurations:diff_pick", args=["demo"])}"' in content

    response = alice_client.get(reverse("configurations:diff_pick", args=["demo"]), {"a": 2, "b": 1})
    assert response.status_code == 302 and response.url == url(2, 1)


def test_it_rejects_a_bad_pick(alice_client, v2):
    response = alice_client.get(reverse("configurations:diff_pick", args=["demo"]), {"a": "x", "b": 1})
    assert response.status_code == 400
    assert b"a: Enter a whole number." in response.content


def test_it_queries_a_bounded_number_of_times(alice_client, v2, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):  # session, user, configuration, versions, each version's files
        alice_client.get(url(1, 2))


def test_it_numbers_lines_in_a_diff():
    class V:
        def __init__(self, text, sha):
            self.yaml_text, self.sha256 = text, sha

    class Files:
        def select_related(self, *args):
            return []

    a, b = V("a\nb\nc\n", "1"), V("a\nB\nc\nd\n", "2")
    a.files = b.files = Files()
    diff = diff_versions(a, b)
    assert [(line.kind, line.old, line.new, line.text) for line in diff.lines] == [
        ("hunk", None, None, "@@ -1,3 +1,4 @@"),
        ("context", 1, 1, "a"),
        ("removed", 2, None, "b"),
        ("added", None, 2, "B"),
        ("context", 3, 3, "c"),
        ("added", None, 4, "d"),
    ]
    assert (diff.added, diff.removed) == (2, 1)


def test_it_is_linked_from_a_run_of_an_older_version(alice_client, alice, demo_version):
    from testruns.models import Status

    run = make_run(
        demo_version,
        status=Status.COMPLETED,
        requested_by=alice,
    )
    assert "diff with current" not in alice_client.get(run.get_absolute_url()).content.decode()

    text = demo_version.yaml_text.replace('project_type: "excavation"', 'project_type: "survey"')
    save_edited_version(demo_version.configuration, text, alice, "m")
    content = alice_client.get(run.get_absolute_url()).content.decode()
    assert f'(current is v2: <a href="{url(1, 2)}">diff with current</a>)' in content


def test_it_shows_each_versions_format_and_warns_when_they_differ(alice_client, tmp_path, alice):
    from tests.factories import CONFORMANCE_V2, copy_case

    old = copy_case(CONFORMANCE_V2 / "02_old_format_under_v2", tmp_path) / "shapeshifter.yml"
    import_configuration(old, name="old", user=alice)
    import_configuration(old, name="old", user=alice, format_version=2)

    content = alice_client.get(url(1, 2, name="old")).content.decode()

    assert "format 1</span>" in content and "format 2 · forced</span>" in content
    assert "read in different formats: v1 in format 1, detected, v2 in format 2, forced" in content
    assert "are identical: the same YAML and the same files" in content


def test_it_says_nothing_of_the_format_when_it_is_the_same(alice_client, v2):
    content = alice_client.get(url(1, 2)).content.decode()

    assert "read in different formats" not in content
