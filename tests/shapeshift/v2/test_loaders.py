"""Format-2 loaders (format-v2.md section 7) on the conformance corpus' inputs.

Each entity is loaded through `load_table` exactly as the v2 pipeline will; the expected CSVs are the
reference's final tables (system_id/public_id added, columns sorted), so the loaded table is compared
column by column, as CSV text, on the data columns the final table has.
"""

from __future__ import annotations

import io
import json
import os
import pathlib

import pandas as pd
import pytest

import shapeshift
from shapeshift.errors import EntityError
from shapeshift.sources import SourceContext, load_table

CORPUS = pathlib.Path(__file__).resolve().parents[4] / "shared" / "data" / "conformance-v2"
pytestmark = pytest.mark.skipif(
    not CORPUS.exists() and os.environ.get("CI") != "true", reason=f"no conformance corpus at {CORPUS}"
)


class Case:
    """One corpus case: its project, and each entity's loaded table or loader error."""

    def __init__(self, folder: str, **context) -> None:
        self.folder = CORPUS / folder
        self.project = shapeshift.load(self.folder / "shapeshifter.yml")
        assert self.project.format_version == 2
        self.ctx = SourceContext(resolver=self.project.resolver, format_version=2, env={}, **context)

    def load(self, entity: str, config: dict | None = None) -> pd.DataFrame | None:
        config = self.project.entities[entity].raw if config is None else config
        return load_table(entity, config, self.project.data_sources, self.ctx)

    def expected(self, entity: str) -> pd.DataFrame:
        return _as_text(
            pd.read_csv(self.folder / "expected" / f"{entity}.csv", dtype=str, keep_default_na=False)
        )

    def failing(self) -> dict[str, str]:
        run = json.loads((self.folder / "expected" / "_run.json").read_text(encoding="utf-8"))
        return {name: error for name, error in run.get("per_entity", {}).items() if error != "ok"}


def _as_text(table: pd.DataFrame) -> pd.DataFrame:
    """The table as the CSV writer renders it: floats with a decimal point, nulls as empty strings."""
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False)


def data_columns(case: Case, entity: str) -> list[str]:
    """The expected table's columns the loader delivers: all but the identity and the foreign-key
    columns the pipeline adds, unless the entity lists them in `columns` (then they are loaded: 5.4)."""
    raw = case.project.entities[entity].raw
    remotes = [case.project.entities[fk["entity"]].raw["public_id"] for fk in raw.get("foreign_keys", [])]
    added = {"system_id", raw.get("public_id"), *remotes} - set(raw.get("columns") or [])
    return [column for column in case.expected(entity).columns if column not in added]


def assert_loaded_like_expected(case: Case, entity: str, loaded: pd.DataFrame | None = None) -> None:
    loaded = case.load(entity) if loaded is None else loaded
    columns = data_columns(case, entity)
    assert set(columns) <= set(loaded.columns)
    pd.testing.assert_frame_equal(_as_text(loaded[columns]), case.expected(entity)[columns])


# --- 7.2 fixed entities ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def c04():
    return Case("04_fixed_identity")


@pytest.mark.parametrize("entity", ["period", "phase", "era", "colour", "shape", "empty", "with_source"])
def test_fixed_entities_load_their_rows(c04, entity):
    assert_loaded_like_expected(c04, entity)


def test_identity_prefixed_rows_are_named_system_id_and_public_id(c04):
    # [7, 70, EN, Early Neolithic]: the two values in front are the identity (7.2)
    period = c04.load("period")
    assert list(period.columns) == ["system_id", "period_id", "period", "label"]
    assert period["system_id"].tolist() == [7, 8]
    assert period["period_id"].tolist()[0] == 70 and pd.isna(period["period_id"].tolist()[1])


def test_listed_system_id_is_kept_verbatim_with_nulls_and_duplicates(c04):
    phase = c04.load("phase")
    assert phase["system_id"].dtype == "float64"  # 5.0, empty, 2.0, 2.0 (6.7)


def test_a_provisional_system_id_is_added_when_the_rows_give_none(c04):
    assert c04.load("colour")["system_id"].tolist() == [1, 2]  # 5.1


def test_surrogate_id_adds_no_column(c04):
    # legacy_surrogate.csv is system_id,code: the core ignores surrogate_id (5.2)
    assert set(c04.load("legacy_surrogate").columns) == {"code", "system_id"}


def test_duplicate_column_names_are_merged_before_rows_are_matched(c04):
    shape = c04.load("shape")  # columns [shape, sides, shape], two values per row
    assert [c for c in shape.columns if c != "system_id"] == ["shape", "sides"]


def test_empty_values_give_an_empty_table_with_the_columns(c04):
    empty = c04.load("empty")
    assert len(empty) == 0 and {"code", "label"} <= set(empty.columns)


def test_source_on_a_fixed_entity_does_not_change_what_is_loaded(c04):
    config = dict(c04.project.entities["with_source"].raw)
    config.pop("source")
    pd.testing.assert_frame_equal(c04.load("with_source"), c04.load("with_source", config))


@pytest.fixture(scope="module")
def c05():
    return Case("05_fixed_requirements")


def test_fixed_entity_that_meets_the_requirements_loads(c05):
    assert_loaded_like_expected(c05, "ok_kind")


# What each message must name, for every entity the reference fails (expected/_run.json per_entity).
FIXED_PROBLEMS = {
    "no_keys": "`keys` is required",
    "no_public_id": "`public_id` is required",
    "surrogate_name_not_in_columns": "surrogate_name 'shape' is not one of columns ['code']",
    "wrong_row_length": "rows have 3 values but columns ['a', 'b'] need 2 per row (or 4 with the identity",
    "scalar_rows_two_columns": "single values, 1 per row, but columns ['a', 'b'] need 2 per row",
    "query_on_fixed": "must not have `query`",
}


def test_every_failing_fixed_entity_of_the_corpus_is_checked(c05):
    assert set(c05.failing()) == set(FIXED_PROBLEMS)


@pytest.mark.parametrize("entity", sorted(FIXED_PROBLEMS))
def test_fixed_requirements_are_checked_at_load_time(c05, entity):
    with pytest.raises(EntityError) as error:
        c05.load(entity)
    assert str(error.value).startswith(f"entity '{entity}': invalid fixed entity: ")
    assert FIXED_PROBLEMS[entity] in str(error.value)


def test_fixed_problems_are_all_reported_at_once(c05):
    config = {"type": "fixed", "columns": ["a"], "values": [[1]], "query": "select 1"}
    with pytest.raises(EntityError) as error:
        c05.load("many", config)
    for problem in ("`keys` is required", "`public_id` is required", "must not have `query`"):
        assert problem in str(error.value)


@pytest.mark.parametrize(
    "values, problem",
    [
        ("units.parquet", "`values` must be a list of rows, got str 'units.parquet'"),  # a failed @load
        (None, "`values` must be a list of rows, got missing"),
        ([["x", 1], ["y"]], "rows have different numbers of values (1, 2)"),
        ([["x", 1], "y"], "mixes list rows and single values"),
        ([{"a": 1}, {"b": 2}], "columns ['c'] are in no row of the loaded values"),
    ],
)
def test_it_rejects_unusable_values(c05, values, problem):
    config = {"type": "fixed", "public_id": "t_id", "keys": [], "columns": ["a", "b"], "values": values}
    if isinstance(values, list) and values and isinstance(values[0], dict):
        config["columns"] = ["a", "c"]
    with pytest.raises(EntityError, match="invalid fixed entity") as error:
        c05.load("t", config)
    assert problem in str(error.value)


def test_null_query_and_data_source_count_as_absent(c05):
    config = {"type": "fixed", "public_id": "t_id", "keys": [], "columns": ["a"], "values": [[1]]}
    loaded = c05.load("t", {**config, "query": None, "data_source": None})
    assert loaded["a"].tolist() == [1]


@pytest.fixture(scope="module")
def c06():
    return Case("06_load_parquet_materialized")


def test_dict_rows_from_a_loaded_csv_keep_every_key(c06):
    # @load of factors.csv: every value text, the unused `comment` column kept until extraction (7.2)
    loaded = c06.load("unit_factor")
    assert {"unit_code", "factor", "comment"} <= set(loaded.columns)
    assert_loaded_like_expected(c06, "unit_factor", loaded)


def test_dict_rows_keep_their_system_id_and_materialized_is_ignored(c06):
    # the rows `@load: units.parquet` gives (2.4), read here: the @load itself is the configuration layer's
    rows = pd.read_parquet(c06.folder / "units.parquet").to_dict("records")
    config = {**c06.project.entities["unit"].raw, "values": rows}
    assert "materialized" in config
    loaded = c06.load("unit", config)
    assert loaded["system_id"].tolist() == [10, 20, 30]
    assert_loaded_like_expected(c06, "unit", loaded)


# --- 7.3 CSV / TSV ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def c07():
    return Case("07_csv_header_sanitize")


def test_csv_headers_are_sanitised(c07):
    loaded = c07.load("pollen")
    assert list(loaded.columns) == c07.project.entities["pollen"].raw["columns"]  # in file order
    assert_loaded_like_expected(c07, "pollen", loaded)


def test_original_header_names_no_longer_exist(c07):
    loaded = c07.load("pollen_original_names")
    assert not {"Probe Nr.", "Taxon (lat.)"} & set(loaded.columns)
    assert len(loaded) == len(c07.expected("pollen_original_names"))


def test_only_wanted_columns_are_read_asked_by_their_sanitised_name(c07):
    asked = []

    def wanted(column):
        asked.append(column)
        return column in ("taxon_lat_1", "probe_nr")

    case = Case("07_csv_header_sanitize", wanted_columns=wanted)
    loaded = case.load("pollen")
    assert asked == c07.project.entities["pollen"].raw["columns"]
    assert list(loaded.columns) == ["probe_nr", "taxon_lat_1"]  # the second "Taxon (lat.)", by position
    pd.testing.assert_frame_equal(_as_text(loaded), c07.expected("pollen")[["probe_nr", "taxon_lat_1"]])


def test_unsanitised_headers_are_asked_by_their_raw_name():
    asked = []
    case = Case("33_file_options_tsv_location", wanted_columns=lambda c: asked.append(c) or c == "Label")
    loaded = case.load("csv_sanitize_flag")
    assert asked == ["Code", "Label"] and list(loaded.columns) == ["Label"]


def test_excel_columns_are_pruned_by_their_sanitised_name(c09):
    case = Case("09_excel_loaders", wanted_columns=lambda column: column == "name_en")
    loaded = case.load("sites")
    assert list(loaded.columns) == ["name_en"]
    pd.testing.assert_frame_equal(_as_text(loaded), c09.expected("sites")[["name_en"]])


def test_a_table_keeps_its_rows_when_no_column_is_wanted(c07):
    case = Case("07_csv_header_sanitize", wanted_columns=lambda column: False)
    loaded = case.load("pollen_original_names")
    assert loaded.shape == (len(c07.expected("pollen_original_names")), 1)


def test_sampled_runs_read_the_first_rows():
    case = Case("07_csv_header_sanitize", max_rows=1)
    assert case.load("pollen")["probe_nr"].tolist() == ["PN-1"]


def test_upper_case_references_meet_sanitised_headers():
    case = Case("08_sanitize_and_column_refs")
    expected = case.expected("coordinate_lower")
    for entity in ("coordinate_upper", "coordinate_lower"):
        loaded = case.load(entity)
        assert list(loaded.columns) == ["sample", "x", "y"]
        for axis in ("x", "y"):  # the expected table is the melt of x and y
            melted = expected[expected["axis"] == axis]
            assert _as_text(loaded[[axis]].astype(float))[axis].tolist() == melted["value"].tolist()
    # copy_x (a case-insensitive copy of X) holds the loaded x
    assert (
        _as_text(case.load("coordinate_upper"))["x"].tolist()
        == case.expected("coordinate_upper")["copy_x"].tolist()
    )


@pytest.fixture(scope="module")
def c33():
    return Case("33_file_options_tsv_location")


@pytest.mark.parametrize("entity", ["tsv_with_sep", "tsv_without_sep", "csv_via_data_source"])
def test_tsv_is_the_csv_loader(c33, entity):
    assert_loaded_like_expected(c33, entity)


def test_location_local_is_resolved_and_never_reaches_read_csv(c33):
    # the reference crashes (TypeError: read_csv() got an unexpected keyword argument 'location',
    # section 20 #2); the same file as tsv_with_sep loads
    assert "csv_location_local" in c33.failing()
    loaded = c33.load("csv_location_local")
    pd.testing.assert_frame_equal(
        _as_text(loaded[["code", "label"]]), c33.expected("tsv_with_sep")[["code", "label"]]
    )


def test_sanitize_header_false_is_honoured_for_csv(c33):
    # the reference crashes on any sanitize_header key (section 20 #1); here false keeps the raw names
    assert "csv_sanitize_flag" in c33.failing()
    loaded = c33.load("csv_sanitize_flag")
    assert list(loaded.columns) == ["Code", "Label"]
    expected = c33.expected("tsv_with_sep")
    assert _as_text(loaded)["Code"].tolist() == expected["code"].tolist()


def test_relative_file_names_are_resolved_against_the_configuration_folder(tmp_path, monkeypatch):
    (tmp_path / "project" / "data").mkdir(parents=True)
    (tmp_path / "project" / "data" / "a.csv").write_text("A,B\n1,2\n")
    monkeypatch.chdir(tmp_path)  # a working-directory lookup would not find data/a.csv
    ctx = SourceContext(resolver=shapeshift.DirectoryResolver(tmp_path), base_dir="project", format_version=2)
    for options in ({"filename": "data/a.csv", "location": "local"}, {"filename": "data/a.csv"}):
        loaded = load_table("a", {"type": "csv", "options": options}, {}, ctx)
        assert loaded.to_dict("list") == {"a": [1], "b": [2]}


# --- 7.4 Excel ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def c09():
    return Case("09_excel_loaders")


@pytest.mark.parametrize("entity", ["sites", "sites_raw_header", "grid_cells", "grid_columns_no_header"])
def test_excel_loaders(c09, entity):
    assert_loaded_like_expected(c09, entity)


def test_excel_headers_are_sanitised_unless_switched_off(c09):
    assert list(c09.load("sites").columns) == ["site_code", "name_en", "hohe_m"]
    assert list(c09.load("sites_raw_header").columns) == ["Site Code", "Name (EN)", "Höhe m"]


def test_header_list_names_the_columns_and_keeps_the_first_row(c09):
    # range B3:C4 holds a/first and b/second (7.4); the reference loses a/first (section 20 #7)
    loaded = c09.load("grid_header_list")
    expected = c09.expected("grid_header_list")
    assert list(loaded.columns) == ["k", "v"]
    assert loaded.values.tolist() == [["a", "first"], *expected[["k", "v"]].values.tolist()]


def test_excel_without_sheet_name_reads_the_first_sheet(c09):
    # the reference refuses every workbook without sheet_name (section 20 #34); the first sheet is `sites`
    config = {"type": "xlsx", "options": {"filename": "book.xlsx"}}
    assert_loaded_like_expected(c09, "sites", c09.load("sites", config))


@pytest.mark.parametrize("kind", ["xlsx", "openpyxl"])
def test_a_string_source_is_the_sheet(c09, kind):
    config = {"type": kind, "source": "grid", "options": {"filename": "book.xlsx"}}
    loaded = c09.load("grid", config)
    assert loaded.shape[0] == 3  # under the title row: the header row and two data rows


@pytest.mark.parametrize(
    "options, message",
    [
        ({"sheet_name": "nope"}, "book.xlsx has no sheet 'nope' (sheets: ['sites', 'grid'])"),
        ({"range": "B2"}, "range 'B2' is neither cells (like B2:D4) nor columns (like B:C)"),
        ({"sheet_name": "grid", "range": "B:C", "header": ["k"]}, "header lists 1 names but the range has 2"),
    ],
)
def test_openpyxl_option_errors_name_the_entity(c09, options, message):
    config = {"type": "openpyxl", "options": {"filename": "book.xlsx", **options}}
    with pytest.raises(EntityError, match="^entity 'grid': ") as error:
        c09.load("grid", config)
    assert message in str(error.value)


def test_openpyxl_ranges_are_case_insensitive_and_sampled():
    case = Case("09_excel_loaders", max_rows=1)
    config = {
        "type": "openpyxl",
        "options": {"filename": "book.xlsx", "sheet_name": "grid", "range": "b2:d4"},
    }
    assert case.load("grid", config).values.tolist() == [["a", "first", 1]]


# --- 7.1 resolution --------------------------------------------------------------------------------------


def test_the_data_source_driver_decides_whatever_the_type(c33):
    config = {"type": "fixed", "data_source": "labels_file", "values": "not read"}
    assert_loaded_like_expected(c33, "csv_via_data_source", c33.load("x", config))


@pytest.mark.parametrize(
    "config", [{}, {"type": "entity", "source": "a"}, {"type": "data"}, {"type": "merged"}]
)
def test_no_loader_leaves_the_source_to_the_pipeline(c33, config):
    assert c33.load("x", config) is None


@pytest.mark.parametrize(
    "config, message",
    [
        (
            {"data_source": "missing"},
            "entity 'x': data source 'options.data_sources.missing' not found in configuration",
        ),
        ({"type": "sqlite"}, "entity 'x': type 'sqlite' is a database driver, not an entity type"),
        ({"type": "postgresql"}, "entity 'x': type 'postgresql' is a database driver"),
        ({"type": "access"}, "entity 'x': type 'access' is a database driver"),
        ({"type": "csv"}, "entity 'x': no load options defined"),
        ({"type": "csv", "options": {"sep": ";"}}, "entity 'x': the load options have no `filename`"),
    ],
)
def test_unusable_loader_settings_are_refused(c33, config, message):
    with pytest.raises(EntityError) as error:
        c33.load("x", config)
    assert str(error.value).startswith(message)


# --- 7.6 SQL -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def c29():
    return Case("29_sql_sqlite")


def test_auto_detected_sql_columns_allow_extra_result_columns(c29):
    loaded = c29.load("taxa_auto")
    assert {"code", "name", "grp"} <= set(loaded.columns)  # grp: extra result column, dropped by extraction
    # the expected table is after drop_duplicates: true
    pd.testing.assert_frame_equal(
        _as_text(loaded[["code", "name"]].drop_duplicates()), c29.expected("taxa_auto")[["code", "name"]]
    )


def test_sql_columns_are_renamed_by_position_only_without_auto_detection(c29):
    assert_loaded_like_expected(c29, "taxa_positional")


def test_check_column_names_false_alone_renames_nothing(c29):
    loaded = c29.load("taxa_no_check")
    assert not {"taxon_code", "taxon_name", "taxon_group"} & set(loaded.columns)
    assert len(loaded) == len(c29.expected("taxa_no_check"))


def test_the_sql_database_is_found_next_to_the_configuration(c29, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert c29.load("taxa_positional")["taxon_code"].tolist() == ["Q", "P", "Q"]


def test_sqlite_file_name_under_options_is_read(c29):
    # the reference opens an empty in-memory database ("no such table: taxa", section 20 #4)
    assert "taxa_options_filename" in c29.failing()
    assert c29.load("taxa_options_filename")["code"].tolist() == ["Q", "P", "Q"]  # table taxa in 7.6


SQL_PROBLEMS = {
    "taxa_missing_column": "entity 'taxa_missing_column': SQL result has no column(s) ['nm'] listed in "
    "columns (result columns: ['code', 'name'])",
    "taxa_legacy_values": "entity 'taxa_legacy_values': the SQL text in `values` (legacy \"sql: ...\" form) "
    "is not read in format 2; move it to `query`",
}


@pytest.mark.parametrize("entity", sorted(SQL_PROBLEMS))
def test_sql_entities_the_reference_fails_are_refused(c29, entity):
    assert entity in c29.failing()
    with pytest.raises(EntityError) as error:
        c29.load(entity)
    assert str(error.value).startswith(SQL_PROBLEMS[entity])


SQL_BASE = {"type": "sql", "data_source": "db", "query": "select code, name, grp from taxa"}


@pytest.mark.parametrize(
    "config, message",
    [
        ({"keys": ["taxon"], "columns": []}, "SQL result has no key column(s) ['taxon']"),
        ({"columns": ["a", "b"], "auto_detect_columns": False}, "the 3 SQL result columns"),
        (
            {"columns": ["a", "b"], "auto_detect_columns": False, "check_column_names": False},
            "but columns lists 2: ['a', 'b']",
        ),
        ({"query": None}, "a type: sql entity needs a `query`"),
        ({"query": None, "table": "taxa"}, "`table` is not read in format 2"),
        ({"type": "entity"}, "reads SQL data source 'db' (sqlite) but is not type: sql"),
    ],
)
def test_sql_configuration_errors_name_the_entity(c29, config, message):
    with pytest.raises(EntityError, match="^entity 'x'") as error:
        c29.load("x", {**SQL_BASE, **config})
    assert message in str(error.value)


@pytest.mark.parametrize(
    "config",
    [
        {"keys": ["code"], "columns": ["name", "label"], "extra_columns": {"label": "x"}},
        {"keys": [], "columns": ["system_id", "x_id", "name"], "public_id": "x_id"},
        {"keys": ["taxon"], "columns": [], "check_column_names": False},
        {"keys": ["taxon"], "columns": [], "unnest": {"id_vars": ["code"]}},
    ],
)
def test_sql_column_check_skips_derived_identity_and_unchecked_names(c29, config):
    assert len(c29.load("x", {**SQL_BASE, **config})) == 3


def test_sql_ids_delivered_by_the_query_are_kept(c29):
    config = {**SQL_BASE, "query": "select 70 as system_id, 'a' as code", "columns": ["code"]}
    assert c29.load("x", config)["system_id"].tolist() == [70]


def test_sql_results_get_a_provisional_system_id(c29):
    assert c29.load("taxa_positional")["system_id"].tolist() == [1, 2, 3]
