"""`manage.py import_configuration`: what `make serve` runs at every start to load the demo."""

from io import StringIO

import pytest
from django.core.management import call_command

from configurations.models import Configuration
from configurations.versioning import save_edited_version
from tests.factories import DEMO_YAML

pytestmark = pytest.mark.django_db


def import_demo(*flags) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_configuration", str(DEMO_YAML), "--name", "demo", *flags, stdout=out)
    return out.getvalue()


def test_it_imports_the_demo_when_it_is_missing():
    out = import_demo("--if-missing")

    demo = Configuration.objects.get(name="demo")
    assert demo.current_version.number == 1
    assert "demo v1 (imported" in out


def test_it_changes_nothing_the_second_time():
    import_demo("--if-missing")
    out = import_demo("--if-missing")

    demo = Configuration.objects.get(name="demo")
    assert demo.versions.count() == 1
    assert demo.current_version.number == 1
    assert "demo v1 (already there, left as it is" in out


def test_it_keeps_the_authors_edit_of_the_demo_current(alice):
    import_demo("--if-missing")
    demo = Configuration.objects.get(name="demo")
    edited = save_edited_version(demo, DEMO_YAML.read_text() + "\n# my edit\n", alice, "my edit")

    import_demo("--if-missing")

    demo.refresh_from_db()
    assert demo.current_version == edited
    assert demo.versions.count() == 2


def test_without_the_flag_it_makes_the_file_current_again(alice):
    import_demo()
    demo = Configuration.objects.get(name="demo")
    save_edited_version(demo, DEMO_YAML.read_text() + "\n# my edit\n", alice, "my edit")

    out = import_demo()

    demo.refresh_from_db()
    assert demo.current_version.number == 3
    assert "demo v3 (imported" in out


def test_it_forces_the_format_and_says_so():
    out = import_demo("--format-version", "1")

    version = Configuration.objects.get(name="demo").current_version
    assert (version.format_version, version.format_forced) == (1, True)
    assert "demo v1 (imported, format 1, forced," in out


def test_it_refuses_an_unknown_format():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="invalid choice: 3"):
        import_demo("--format-version", "3")
    assert not Configuration.objects.exists()


def test_it_lists_the_variables_it_bundled(tmp_path, settings, monkeypatch):
    from io import StringIO

    from tests.factories import CONFORMANCE_V2, copy_case

    case = copy_case(CONFORMANCE_V2 / "10_env_vars_and_include", tmp_path)
    variables = dict(line.split("=", 1) for line in (case / "run.env").read_text().split())
    settings.CONFIG_ENV = list(variables)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    out = StringIO()

    call_command("import_configuration", str(case / "shapeshifter.yml"), "--name", "env", stdout=out)

    assert "format 2, detected" in out.getvalue()
    assert "  ${LABEL_DIR}: 1 file bundled in _env/LABEL_DIR/\n" in out.getvalue()


def test_it_reports_each_missing_file_with_its_line(write_config):
    path = write_config("entities:\n  a:\n    type: csv\n    options: {filename: a.csv}\n", "two.yml")

    out = StringIO()
    call_command("import_configuration", str(path), stdout=out)

    assert (
        "  missing: a.csv (named at two.yml:4): runs of the entities that read it will fail" in out.getvalue()
    )


def test_it_reuses_the_current_versions_files_unless_told_not_to(write_config):
    import_demo()
    alone = write_config(DEMO_YAML.read_text(encoding="utf-8") + "# edited\n", "demo.yml")

    out = StringIO()
    call_command("import_configuration", str(alone), "--name", "demo", stdout=out)
    call_command("import_configuration", str(alone), "--name", "demo", "--no-reuse", stdout=out)

    v2, v3 = Configuration.objects.get(name="demo").versions.order_by("number")[1:]
    assert "survey.csv" in v2.files.values_list("path", flat=True)
    assert "  reused from v1: survey.csv" in out.getvalue()
    assert list(v3.files.values_list("path", flat=True)) == ["demo.yml"]
