"""The format-2 conformance corpus (shared/data/conformance-v2, see its INDEX.md) run through the engine.

Every case folder and every `expected*/` folder of it is one test: the project is loaded as the
reference harness loads it (the case folder as working directory, `run.env` as the environment,
prefix SHAPE_SHIFTER), planned and run as the CLI runs it (tables handed to `on_table` as soon as they
are final, text kept compact), and each table written with `shapeshift.write_csv` must equal the
reference's CSV **byte for byte** (INDEX.md: header, no index, empty field for null, floats as pandas
writes them) — no looser comparison is used anywhere. The entities `_run.json` lists as failing must
fail, and no other entity may.

Where the engine deliberately does what format-v2.md section 20 calls sane instead of the reference's
bug, the expected outcome is derived from the reference's files by that section's rule (DEVIATIONS,
each citing its item).

`old_semantics/` (cases 02 and 16): the same file read as format 1 must still give exactly those files.
"""

from __future__ import annotations

import io
import json
import pathlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import pytest

import shapeshift

CORPUS = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "conformance-v2"


def _variants(case: pathlib.Path) -> dict[str, dict[str, str]]:
    """`variants` lines `NAME|KEY=VALUE` -> {"expected_NAME": {KEY: VALUE}}; plain `expected` has none."""
    found = {"expected": {}}
    path = case / "variants"
    if path.exists():
        for line in path.read_text().splitlines():
            if "|" in line:
                name, setting = line.split("|", 1)
                key, _, value = setting.partition("=")
                found[f"expected_{name.strip()}"] = {key.strip(): value.strip()}
    return found


def _run_env(case: pathlib.Path) -> dict[str, str]:
    path = case / "run.env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


@dataclass
class Expected:
    """What one run must produce: CSV bytes per succeeding entity, and the entities that fail."""

    tables: dict[str, bytes]
    failing: set[str] = field(default_factory=set)


def _reference(case: pathlib.Path, folder: str) -> Expected:
    run = json.loads((case / folder / "_run.json").read_text())
    failing = {name for name, status in (run.get("per_entity") or {}).items() if status != "ok"}
    tables = {path.stem: path.read_bytes() for path in sorted((case / folder).glob("*.csv"))}
    return Expected(tables, failing)


# --- deliberate deviations (format-v2.md 20), each derived from the reference's files ----------------


def _csv(text: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(text), dtype=str, keep_default_na=False)


def _bytes(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False).encode()


def _renumbered(table: pd.DataFrame) -> pd.DataFrame:
    table = table.reset_index(drop=True)
    table["system_id"] = [str(i) for i in range(1, len(table) + 1)]
    return table


def _default_entity_honoured(case: pathlib.Path, expected: Expected) -> None:
    """20 #16: `metadata.default_entity` is honoured and a dependency, so site and taxon read survey
    and give what the reference gives with --default-entity survey (expected_with_default/)."""
    with_default = _reference(case, "expected_with_default")
    expected.tables.update(with_default.tables)
    expected.failing -= set(with_default.tables)


def _distinct_append(case: pathlib.Path, expected: Expected) -> None:
    """20 #13 (15.4): `append_mode: distinct` de-duplicates the union of distinct_mode_only."""
    rows = _csv(expected.tables["distinct_mode_only"])
    data = [c for c in rows.columns if c != "system_id"]
    expected.tables["distinct_mode_only"] = _bytes(_renumbered(rows.drop_duplicates(subset=data)))


def _extra_columns_after_renaming(case: pathlib.Path, expected: Expected) -> None:
    """20 #23 (15.3): `origin: "{taxon_code}@fixed"` is computed for the renamed append items' rows too."""
    taxon = _csv(expected.tables["taxon"])
    empty = taxon["origin"] == ""
    taxon.loc[empty, "origin"] = taxon.loc[empty, "taxon_code"] + "@fixed"
    expected.tables["taxon"] = _bytes(taxon)


def _fixed_system_ids_checked(case: pathlib.Path, expected: Expected) -> None:
    """20 #10 (5.1): phase's own system_id values [5, null, 2, 2] repeat 2: the entity fails."""
    del expected.tables["phase"]
    expected.failing.add("phase")


def _failing_unnest_fails(*names: str) -> Callable[[pathlib.Path, Expected], None]:
    def deviation(case: pathlib.Path, expected: Expected) -> None:
        for name in names:
            del expected.tables[name]
            expected.failing.add(name)

    deviation.__doc__ = f"20 #24 (13): a failing unnest fails the entity ({', '.join(names)})."
    return deviation


def _copies_survive_the_melt(case: pathlib.Path, expected: Expected) -> None:
    """20 #25 (8.2, 13): `copy_x: X` copies column x and is kept through the melt as an id column,
    instead of becoming the constant text 'X'; coordinate_upper fails its unnest (20 #24)."""
    _failing_unnest_fails("coordinate_upper")(case, expected)
    x_of_sample = pd.read_csv(case / "coords.csv").set_index("Sample")["X"]
    table = _csv(expected.tables["coordinate_lower"])
    table["copy_x"] = table["sample"].map(lambda sample: str(x_of_sample[sample]))
    expected.tables["coordinate_lower"] = _bytes(table)


def _header_list_keeps_the_first_row(case: pathlib.Path, expected: Expected) -> None:
    """20 #7 (7.4): openpyxl `header: [K, V]` names the columns and keeps the range's first row as data:
    range B3:C4 holds grid_cells' two data rows (its range B2:D4 starts with the header row)."""
    cells = _csv(expected.tables["grid_cells"])
    table = cells[["system_id", "grid_cells_id", "code", "label"]]
    table.columns = ["system_id", "grid_header_list_id", "k", "v"]
    expected.tables["grid_header_list"] = _bytes(table)


def _string_drop_duplicates_is_one_column(case: pathlib.Path, expected: Expected) -> None:
    """20 #12 (9.1): `drop_duplicates: site` means [site], so string_form fails its (strict) FD check
    like by_key_fd_holds, which has the same keys and columns in the list form."""
    del expected.tables["string_form"]
    expected.failing.add("string_form")


def _fk_fixes(case: pathlib.Path, expected: Expected) -> None:
    """20 #5 (12.2): FK `extra_columns: [type_name]` is the mapping {type_name: type_name}, so
    fk_extra_columns_list links like two_fks_same_remote's first FK (same samples, same inner join)
    and adds type_name; 20 #6 (12.1): a cross join to a remote without public_id is skipped like any
    other FK to it, so cross_to_no_public_id has no column with an empty name."""
    linked = _csv(expected.tables["two_fks_same_remote"]).drop(columns=["fallback_code"])
    linked = linked.rename(columns={"two_fks_same_remote_id": "fk_extra_columns_list_id"})
    type_name = _csv(expected.tables["sample_type"]).set_index("code")["type_name"]
    linked["type_name"] = linked["code"].map(type_name)
    expected.tables["fk_extra_columns_list"] = _bytes(linked)
    expected.failing.discard("fk_extra_columns_list")
    crossed = _csv(expected.tables["cross_to_no_public_id"])
    empty_name = expected.tables["cross_to_no_public_id"].decode().splitlines()[0].split(",").index("")
    expected.tables["cross_to_no_public_id"] = _bytes(crossed.drop(columns=crossed.columns[empty_name]))


def _sqlite_file_under_options(case: pathlib.Path, expected: Expected) -> None:
    """20 #4 (7.6): the SQLite file may be named under the data source's `options` too, so
    taxa_options_filename reads lookup.db (`select code from taxa`) instead of an empty database."""
    with sqlite3.connect(case / "lookup.db") as db:
        codes = [row[0] for row in db.execute("select code from taxa")]
    table = pd.DataFrame(
        {"system_id": range(1, len(codes) + 1), "taxa_options_filename_id": "", "code": codes}
    )
    expected.tables["taxa_options_filename"] = _bytes(table)
    expected.failing.discard("taxa_options_filename")


def _csv_location_and_sanitize_header(case: pathlib.Path, expected: Expected) -> None:
    """20 #1, #2 (7.3, 7.5): `location` is resolved and `sanitize_header` honoured instead of being
    passed to read_csv: both read data/labels.tsv as csv_via_data_source does; csv_sanitize_flag keeps
    the file's header `Code`, `Label` (sanitize_header: false)."""
    same_file = _csv(expected.tables["csv_via_data_source"])
    for name, columns in (
        ("csv_location_local", ["code", "label"]),
        ("csv_sanitize_flag", ["Code", "Label"]),
    ):
        table = same_file.copy()
        table.columns = ["system_id", f"{name}_id", *columns]
        expected.tables[name] = _bytes(table)
        expected.failing.discard(name)


DEVIATIONS: dict[tuple[str, str], list[Callable[[pathlib.Path, Expected], None]]] = {
    ("04_fixed_identity", "expected"): [_fixed_system_ids_checked],
    ("08_sanitize_and_column_refs", "expected"): [_copies_survive_the_melt],
    ("09_excel_loaders", "expected"): [_header_list_keeps_the_first_row],
    ("14_drop_duplicates_fd", "expected"): [_string_drop_duplicates_is_one_column],
    ("21_fk_misc", "expected"): [_fk_fixes],
    ("24_unnest_edge_cases", "expected"): [_failing_unnest_fails("missing_id_vars")],
    ("25_append_v2", "expected"): [_distinct_append],
    ("26_append_column_renaming", "expected"): [_extra_columns_after_renaming],
    ("29_sql_sqlite", "expected"): [_sqlite_file_under_options],
    ("30_default_entity", "expected"): [_default_entity_honoured],
    ("33_file_options_tsv_location", "expected"): [_csv_location_and_sanitize_header],
}


def _params():
    for case in sorted(p for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.exists() else []:
        for folder in _variants(case):
            if (case / folder).is_dir():
                yield pytest.param(case, folder, id=f"{case.name}/{folder}")


class _Collector:
    """The CLI's on_table: each final table written with write_csv as soon as it is final."""

    def __init__(self, folder: pathlib.Path) -> None:
        self.folder = folder
        self.written: dict[str, bytes] = {}

    def __call__(self, name: str, table: pd.DataFrame) -> None:
        path = self.folder / f"{name}.csv"
        shapeshift.write_csv(table, path)
        self.written[name] = path.read_bytes()


def _run(case: pathlib.Path, tmp_path: pathlib.Path, *, format_version=None, **options):
    config = case / "shapeshifter.yml"
    env = _run_env(case)
    project = shapeshift.load(config, env=env, env_prefix="SHAPE_SHIFTER", format_version=format_version)
    plan = shapeshift.plan(project, default_entity=options.pop("default_entity", None))
    collector = _Collector(tmp_path)
    result = shapeshift.run(
        project, plan, keep_tables=False, on_table=collector, compact_text=True, **options
    )
    return project, result, collector.written


@pytest.mark.skipif(not CORPUS.exists(), reason=f"no conformance corpus at {CORPUS}")
@pytest.mark.parametrize(("case", "folder"), list(_params()))
def test_it_reproduces_the_reference(case: pathlib.Path, folder: str, tmp_path, monkeypatch):
    monkeypatch.chdir(case)  # the reference ran in the case folder
    variant = _variants(case)[folder]
    expected = _reference(case, folder)
    for deviation in DEVIATIONS.get((case.name, folder), []):
        deviation(case, expected)
    project, result, written = _run(
        case,
        tmp_path,
        format_version=2,  # the reference reads every file as format 2, case 02's old one too (1.3)
        default_entity=variant.get("DEFAULT_ENTITY"),
        translate=variant.get("TRANSLATE") == "1",
    )
    failed = {o.name for o in result.outcomes if o.status == shapeshift.EntityStatus.FAILED}
    errors = {o.name: o.error for o in result.outcomes if o.error}
    assert failed == expected.failing, errors
    mismatched = {
        name: (written.get(name, b"<not written>").decode(), text.decode())
        for name, text in expected.tables.items()
        if written.get(name) != text
    }
    assert not mismatched, mismatched
    assert set(written) == set(expected.tables), errors


@pytest.mark.skipif(not CORPUS.exists(), reason=f"no conformance corpus at {CORPUS}")
@pytest.mark.parametrize("case", ["02_old_format_under_v2", "16_replacements_then_dedup"])
def test_format_1_reads_the_same_files_as_before(case: str, tmp_path, monkeypatch):
    folder = CORPUS / case
    monkeypatch.chdir(folder)
    project, result, written = _run(folder, tmp_path, format_version=1)
    assert project.format_version == 1
    expected = {path.stem: path.read_bytes() for path in (folder / "old_semantics").glob("*.csv")}
    assert result.ok, [o.error for o in result.outcomes if o.error]
    assert {name: written.get(name) for name in expected} == expected
