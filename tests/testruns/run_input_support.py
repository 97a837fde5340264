"""What the run-input tests share: configurations whose entities read the default entity, and their input.

``SOURCELESS`` is imported by the ``sourceless`` fixture (``tests/conftest.py``); ``survey_upload`` gives
the input as a form or the API receives it.

The input is the demo's own survey (``examples/demo/survey.csv``, 300 rows, ";"-separated); expected
values are computed from it with pandas here, independently of the engine.
"""

import pandas as pd
from django.core.files.uploadedfile import SimpleUploadedFile

from configurations.importing import import_configuration
from tests.factories import DEMO

SURVEY = DEMO / "survey.csv"

# Format 1: "site" and "sample" have no source, so they read the input table given as the default entity.
SOURCELESS = """
entities:
  site:
    keys: ["Fustel"]
    columns: ["Fustel", "Ort"]
    drop_duplicates: true
    surrogate_id: site_id
  sample:
    keys: ["ProbNr"]
    columns: ["ProbNr", "Fustel"]
    drop_duplicates: true
    surrogate_id: sample_id
    foreign_keys:
      - entity: site
        local_keys: ["Fustel"]
        remote_keys: ["Fustel"]
  record_type:
    type: fixed
    surrogate_id: record_type_id
    columns: ["code", "name"]
    values: [["Sa/Fr", "seeds and fruits"], ["Hk", "charcoal"]]
"""

# Format 2 naming its default entity in metadata (spec section 6).
WITH_METADATA = """
metadata:
  type: shapeshifter-project
  name: inputs
  default_entity: survey
entities:
  site:
    public_id: site_id
    keys: ["Fustel"]
    columns: ["Fustel", "Ort"]
    drop_duplicates: true
"""


def import_text(write_config, yaml_text: str, name: str, user, **files):
    """Import ``yaml_text`` (with side files) as configuration ``name``; returns its version."""
    version, _ = import_configuration(
        write_config(yaml_text, name=f"{name}.yml", **files), name=name, user=user
    )
    return version


def distinct(column: str, rows: int | None = None) -> int:
    """How many distinct values ``column`` has in the survey's first ``rows`` rows (all: None)."""
    survey = pd.read_csv(SURVEY, sep=";", dtype=str, keep_default_na=False, nrows=rows)
    return survey[column].nunique()


def survey_upload(name: str = "survey.csv", content: bytes | None = None) -> SimpleUploadedFile:
    """The survey (or ``content``) as a file a form or the API receives, under ``name``."""
    return SimpleUploadedFile(name, SURVEY.read_bytes() if content is None else content, "text/csv")
