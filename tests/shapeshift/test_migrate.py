"""migrate_to_v2 (format-v2.md 1.4): a format-1 configuration rewritten as a format-2 project."""

import pytest

import shapeshift
from shapeshift.config.migrate import migrate_to_v2

OLD = """\
entities:
  finds_raw:
    type: csv
    options: {filename: finds.csv, sep: ";"}
    columns: [Trench, trench_name, find]
  trench:
    source: finds_raw
    surrogate_id: trench_id
    keys: [Trench]
    columns: [Trench]
    extra_columns: {label: trench_name, formula_like: "=x", braces: "{Trench} literal"}
    drop_duplicates: [Trench]
  find:
    surrogate_id: find_id
    columns: [find, Trench]
    foreign_keys:
      - {entity: trench, local_keys: [Trench], remote_keys: [Trench], extra_columns: [label]}
  legacy_sql:
    type: sql
    data_source: db
    values: "sql: select 1 as a"
    columns: [a]
mappings:
  trench: {local_key: Trench, remote_key: trench_id, mapping: {T1: 101}}
"""


def _migrated(tmp_path, **kwargs):
    path = tmp_path / "old.yml"
    path.write_text(OLD)
    tree, notes = migrate_to_v2(shapeshift.load(path), **kwargs)
    return tree, notes


def test_identity_types_and_options(tmp_path):
    tree, _ = _migrated(tmp_path, default_entity="finds_raw")
    assert tree["metadata"]["type"] == "shapeshifter-project"
    trench = tree["entities"]["trench"]
    assert trench["public_id"] == "trench_id" and "surrogate_id" not in trench
    assert trench["type"] == "entity"
    assert tree["entities"]["find"]["source"] == "finds_raw"  # the default entity, made explicit
    assert tree["entities"]["find"]["keys"] == []
    assert "mappings" not in tree and tree["options"]["mappings"]["trench"]["remote_key"] == "trench_id"


def test_format_1_meanings_are_kept(tmp_path):
    tree, notes = _migrated(tmp_path)
    trench = tree["entities"]["trench"]
    assert trench["extra_columns"]["formula_like"] == "==x"  # a constant, not a formula
    assert trench["extra_columns"]["braces"] == "{{Trench}} literal"  # a constant, not an interpolation
    assert trench["check_functional_dependency"] is False  # format 1 never checked list de-duplication
    fk = tree["entities"]["find"]["foreign_keys"][0]
    assert fk["extra_columns"] == {"label": "label"}
    sql = tree["entities"]["legacy_sql"]
    assert sql["query"] == "select 1 as a" and "values" not in sql
    assert any("'find': reads the default entity" in note for note in notes)
    assert any("'trench': extra columns ['trench_name'] copy the column" in note for note in notes)


def test_rename_applies_to_every_column_reference(tmp_path):
    tree, _ = _migrated(tmp_path, rename=str.lower)
    trench, find = tree["entities"]["trench"], tree["entities"]["find"]
    assert trench["keys"] == ["trench"] and trench["drop_duplicates"] == ["trench"]
    assert find["foreign_keys"][0]["local_keys"] == ["trench"]
    assert tree["options"]["mappings"]["trench"]["local_key"] == "trench"


def test_the_result_loads_as_format_2(tmp_path):
    import yaml

    tree, _ = _migrated(tmp_path, default_entity="finds_raw")
    path = tmp_path / "new.yml"
    path.write_text(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True))
    project = shapeshift.load(path)
    assert project.format_version == 2
    assert project.entities["trench"].public_id == "trench_id"


def test_cli_migrate_renames_columns_as_format_2_reads_the_csv_header(tmp_path, capsys):
    import yaml

    from shapeshift.cli import main

    (tmp_path / "finds.csv").write_text("Trench;trench_name;find\nT1;North;F1\n", encoding="utf-8")
    (tmp_path / "old.yml").write_text(OLD)
    out = tmp_path / "new.yml"
    assert (
        main(["migrate", str(tmp_path / "old.yml"), "--out", str(out), "--default-entity", "finds_raw"]) == 0
    )
    tree = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert tree["entities"]["finds_raw"]["columns"] == ["trench", "trench_name", "find"]
    assert tree["entities"]["trench"]["keys"] == ["trench"]
    assert "check: entity 'trench': extra columns ['trench_name'] copy" in capsys.readouterr().err
    assert main(["migrate", str(out)]) == 2  # already format 2


@pytest.mark.slow
def test_arbodat_migrated_to_format_2_gives_tables_of_the_same_rows(tmp_path):
    """The real Arbodat configuration, rewritten by `migrate`, runs in format 2 entity for entity."""
    import shutil

    from shapeshift.cli import main
    from tests.shapeshift.engine_support import ARBODAT

    for name in ("reduced-arbodat.yml", "mappings.yml", "translations.tsv", "survey.csv"):
        shutil.copy(ARBODAT / name, tmp_path / name)
    assert main(["migrate", str(tmp_path / "reduced-arbodat.yml"), "--out", str(tmp_path / "v2.yml")]) == 0
    shapes = {}
    for config, version in (("reduced-arbodat.yml", 1), ("v2.yml", 2)):
        project = shapeshift.load(tmp_path / config)
        assert project.format_version == version
        result = shapeshift.run(project)
        assert result.ok, [(o.name, o.error) for o in result.outcomes if o.error]
        shapes[version] = {o.name: o.rows_out for o in result.outcomes}
    assert len(shapes[2]) == 55
    assert shapes[2] == shapes[1]
