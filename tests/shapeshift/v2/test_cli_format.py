"""`python -m shapeshift`: the detected format is shown, --format-version forces it (format-v2.md 1.1),
and a format-2 run takes the default entity from --default-entity only (format-v2.md 3.1, 6.2)."""

from __future__ import annotations

import json

from shapeshift.cli import main
from tests.shapeshift.engine_support import SURVEY_CSV

V2_CONFIG = """
metadata:
  type: shapeshifter-project
  default_entity: survey
entities:
  survey:
    type: csv
    public_id: survey_id
    keys: []
    options: {filename: survey.csv, sep: ";"}
    columns: [site, site_name, sample, taxon, count]
"""

V1_CONFIG = """
entities:
  survey:
    type: csv
    options: {filename: survey.csv, sep: ";"}
    columns: [site, site_name, sample, taxon, count]
"""


def test_validate_and_run_show_the_detected_format(ws, tmp_path, capsys):
    ws.write("survey.csv", SURVEY_CSV)
    v2, v1 = ws.config(V2_CONFIG, "v2.yml"), ws.config(V1_CONFIG, "v1.yml")
    assert main(["validate", str(v2)]) == 0
    assert main(["validate", str(v1)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{v2}: format 2 (Shape Shifter 2 project), 1 entities")
    assert lines[1].startswith(f"{v1}: format 1 (older format), 1 entities")
    assert main(["run", str(v1), "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{v1}: format 1 (older format)"


def test_format_version_forces_the_format(ws, capsys):
    ws.write("survey.csv", SURVEY_CSV)
    v2 = ws.config(V2_CONFIG, "v2.yml")
    assert main(["validate", "--format-version", "1", str(v2)]) == 0
    assert "format 1 (older format)" in capsys.readouterr().out
    assert main(["validate", "--format-version", "3", str(v2)]) == 2  # argparse refuses it


def test_json_output_stays_pure_json(ws, capsys):
    v2 = ws.config(V2_CONFIG, "v2.yml")
    ws.write("survey.csv", SURVEY_CSV)
    assert main(["validate", "--json", str(v2)]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)


def test_format_2_run_ignores_metadata_default_entity(ws, tmp_path, capsys):
    ws.write("survey.csv", SURVEY_CSV)
    v2 = ws.config(V2_CONFIG, "v2.yml")
    args = ["run", str(v2), "--out", str(tmp_path / "out"), "--input", str(ws.folder / "survey.csv")]
    assert main(args) == 2
    assert "--input needs --default-entity NAME" in capsys.readouterr().err
    # the same file read as format 1 takes metadata.default_entity (spec 6), so --input is accepted
    assert main([*args, "--format-version", "1"]) == 0
