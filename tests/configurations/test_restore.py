"""Restoring a version: /configurations/<name>/versions/<n>/restore (a confirmation page, then a POST) saves
the next version with that version's YAML and bundle (configurations.versioning.restore_version)."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from configurations.models import Configuration, StoredFile
from configurations.versioning import EditRefused, restore_version, save_edited_version
from tests.factories import DEMO

pytestmark = pytest.mark.django_db

GOOD, BAD = "entity: project", "entity: nothing"


def url(number, name="demo"):
    return reverse("configurations:restore", args=[name, number])


@pytest.fixture
def v2(demo_version, bob):
    """v2 by bob: the demo with an unknown entity (an error issue), now the current version."""
    return save_edited_version(
        demo_version.configuration, demo_version.yaml_text.replace(GOOD, BAD), bob, "unknown entity"
    )


def files_of(version):
    return {f.path: (f.kind, f.stored_id) for f in version.files.all()}


def test_it_saves_the_next_version_with_the_old_one_s_yaml_and_bundle(demo_version, v2, alice):
    blobs = StoredFile.objects.count()

    v3 = restore_version(demo_version, alice)

    configuration = Configuration.objects.get(name="demo")
    assert configuration.current_version == v3
    assert (v3.number, v3.message, v3.created_by) == (3, "restored from v1", alice)
    assert v3.yaml_text == (DEMO / "demo.yml").read_text()
    assert files_of(v3) == files_of(demo_version)  # the same stored files: nothing stored again
    assert StoredFile.objects.count() == blobs
    assert v3.sha256 == demo_version.sha256
    assert v3.validation["issues"] == demo_version.validation["issues"]
    assert v3.validation["error"] is None
    assert (v3.format_version, v3.format_forced) == (demo_version.format_version, demo_version.format_forced)
    assert v2.configuration.versions.count() == 3  # v2 stays


def test_it_restores_how_the_version_is_read(alice, tmp_path, bob):
    from configurations.importing import import_configuration

    (tmp_path / "survey.csv").write_bytes((DEMO / "survey.csv").read_bytes())
    main = tmp_path / "demo.yml"
    main.write_text((DEMO / "demo.yml").read_text())
    forced, _ = import_configuration(main, name="forced", user=alice, format_version=1)
    main.write_text(main.read_text() + "\n# edited\n")
    detected, _ = import_configuration(main, name="forced", user=alice)  # v2: its format detected
    assert (detected.number, detected.format_forced) == (2, False)

    restored = restore_version(forced, bob)

    assert (restored.format_version, restored.format_forced) == (1, True)
    assert restored.path_variables == forced.path_variables


def test_it_refuses_the_current_version(demo_version, alice):
    with pytest.raises(EditRefused, match="v1 is the current version already."):
        restore_version(demo_version, alice)
    assert demo_version.configuration.versions.count() == 1


def test_it_refuses_a_version_the_same_as_the_current_one(demo_version, v2, alice):
    v3 = save_edited_version(v2.configuration, demo_version.yaml_text, alice, "back by hand")

    with pytest.raises(
        EditRefused, match="Nothing to restore: the current v3 has the same YAML and files as v1."
    ):
        restore_version(demo_version, alice)
    assert v3.configuration.versions.count() == 3


def test_it_refuses_a_version_whose_files_are_lost(demo_version, v2, alice, settings):
    survey = demo_version.files.get(path="survey.csv").stored
    default_storage.delete(survey.blob.name)

    message = r"The files of demo v1 could not be read: survey.csv \(missing, expected [\d,]+ bytes\)"
    with pytest.raises(EditRefused, match=message):
        restore_version(demo_version, alice)
    assert demo_version.configuration.versions.count() == 2


def test_the_version_page_offers_to_restore_an_older_version(alice_client, demo_version, v2):
    older = alice_client.get(reverse("configurations:version", args=["demo", 1])).content.decode()
    current = alice_client.get(reverse("configurations:version", args=["demo", 2])).content.decode()

    assert f'href="{url(1)}">Restore…</a>' in older
    assert "Restore…" not in current


def test_it_asks_first(alice_client, demo_version, v2):
    response = alice_client.get(url(1))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Restore v1 of demo?" in content
    assert "this saves <strong>v3</strong>, the current version from then on, with the YAML" in content
    assert "restored from v1" in content
    assert '<span class="diff-count-added">+1</span> <span class="diff-count-removed">−1</span>' in content
    assert "other bundled file" not in content  # the main YAML is not counted twice
    assert f'href="{reverse("configurations:diff", args=["demo", 2, 1])}">see the diff</a>' in content
    assert '<button type="submit" class="button primary">Restore v1 as v3</button>' in content
    assert demo_version.configuration.versions.count() == 2


def test_it_says_why_a_version_cannot_be_restored(alice_client, v2):
    content = alice_client.get(url(2)).content.decode()

    assert "v2 is the current version already." in content
    assert "<form" not in content.split("<main>")[1]


def test_it_restores_on_post(alice_client, alice, demo_version, v2):
    response = alice_client.post(url(1), follow=True)

    configuration = Configuration.objects.get(name="demo")
    assert response.redirect_chain == [(configuration.get_absolute_url(), 302)]
    v3 = configuration.current_version
    assert (v3.number, v3.message, v3.created_by, v3.yaml_text) == (
        3,
        "restored from v1",
        alice,
        demo_version.yaml_text,
    )
    assert "Saved demo v3, restored from v1." in response.content.decode()


def test_a_teammate_may_restore(client, bob, demo_version, v2):
    client.force_login(bob)
    client.post(url(1))

    current = Configuration.objects.get(name="demo").current_version
    assert (current.number, current.created_by) == (3, bob)


def test_it_sends_a_refusal_back_to_the_version(alice_client, demo_version):
    response = alice_client.post(url(1), follow=True)

    assert response.redirect_chain == [(reverse("configurations:version", args=["demo", 1]), 302)]
    assert "v1 is the current version already." in response.content.decode()
    assert demo_version.configuration.versions.count() == 1


def test_it_restores_only_on_post_or_get(alice_client, demo_version, v2):
    assert alice_client.put(url(1)).status_code == 405
