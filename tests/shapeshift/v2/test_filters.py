"""Format-2 filters (format-v2.md 11): stages, exists_in, query, and what a query may not do."""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift.errors import EntityError
from shapeshift.issues import IssueCode
from shapeshift.pipeline.report import EntityReport
from shapeshift.v2.dedupe import dedupe_setting, drop_duplicates
from shapeshift.v2.extract import SubTable, extract
from shapeshift.v2.filters import apply_filters, check_query
from tests.shapeshift.v2.transforms_support import (
    assert_same,
    entity_config,
    expected,
    fixed_table,
    needs_corpus,
    read_input,
)


def filtered(table, filters, stage="extract", store=None, report=None) -> pd.DataFrame:
    return apply_filters(table, filters, stage, store or {}, entity="e", report=report or EntityReport("e"))


def processed(entity: str, store: dict, sub: SubTable | None = None) -> pd.DataFrame:
    """Case 17's entity through extraction, the extract-stage filters and the second dedupe (6.3 2-6)."""
    config = entity_config("17", entity)
    report = EntityReport(entity)
    sub = sub or SubTable(config)
    if config.get("type") == "fixed":
        source = fixed_table("17", entity).drop(columns="system_id")
    else:
        source = read_input("17", entity)
    table = extract(source, sub, entity=entity, project_raw={}, report=report)
    table = apply_filters(table, config["filters"], "extract", store, entity=entity, report=report)
    return drop_duplicates(table, dedupe_setting(config, {}), entity=entity, report=report)


def with_system_id(table: pd.DataFrame) -> pd.DataFrame:
    table = table.reset_index(drop=True)
    table.insert(0, "system_id", range(1, len(table) + 1))
    return table


@needs_corpus
def test_case_17_dedupe_runs_before_the_query_and_exists_in_reads_the_processed_table():
    counted = processed("counted_taxa", {})
    assert_same(counted, expected("17", "counted_taxa"), columns=["count", "taxon"])
    taxa = processed("taxa", {"counted_taxa": with_system_id(counted)})
    assert_same(taxa, expected("17", "taxa"), columns=["code", "name"])


@needs_corpus
def test_case_17_after_link_filters_see_the_fk_column():
    config = entity_config("17", "abundance")
    taxa = with_system_id(pd.DataFrame({"code": ["Pine"], "name": ["Pinus"]}))  # case 17's processed taxa
    table = processed("abundance", {}, SubTable(config, fk_local_keys=["taxon"]))
    assert table["sample"].tolist() == ["P1", "P2", "P3"]  # the extract-stage query ran
    remote = taxa[["system_id", "code"]].rename(columns={"system_id": "taxon_id"})
    table = table.merge(remote, how="left", left_on="taxon", right_on="code")  # the FK step (left join)
    table = apply_filters(
        table, config["filters"], "after_link", {}, entity="abundance", report=EntityReport("a")
    )
    assert_same(table, expected("17", "abundance"), columns=["taxon_id", "code", "count", "sample", "taxon"])


@needs_corpus
def test_case_17_failures():
    with pytest.raises(EntityError, match=r"Invalid filter stage: 'later'. Expected one of \('extract', "):
        processed("bad_stage", {})
    with pytest.raises(
        EntityError, match=r"Invalid query in filter: 'count > 1': name 'count' is not defined"
    ):
        processed("filter_on_unselected_column", {})


def test_an_unknown_stage_fails_whatever_stage_runs():
    table = pd.DataFrame({"a": [1]})
    with pytest.raises(EntityError, match="Invalid filter stage: 'later'"):
        filtered(table, [{"type": "query", "query": "a > 0", "stage": "later"}], stage="after_link")
    with pytest.raises(EntityError, match="Invalid filter stage: 'before'"):
        filtered(table, [], stage="before")


def test_filters_run_only_at_their_stage_in_order_without_renumbering():
    table = pd.DataFrame({"a": [1, 2, 3, 4]})
    filters = [
        {"type": "query", "query": "a > 1", "stage": None},
        {"type": "query", "query": "a < 4", "stage": "after_unnest"},
        {"type": "query", "query": "a != 2", "stage": ""},
    ]
    assert filtered(table, filters)["a"].tolist() == [3, 4]
    assert filtered(table, filters).index.tolist() == [2, 3]
    assert filtered(table, filters, stage="after_unnest")["a"].tolist() == [1, 2, 3]


def test_filters_without_type_or_query_are_skipped_with_a_warning_and_unknown_types_fail():
    report = EntityReport("e")
    table = pd.DataFrame({"a": [1]})
    assert filtered(table, [{"query": "a > 5"}, {"type": "query", "query": ""}], report=report) is table
    assert [i.code for i in report.issues] == [IssueCode.FILTER_INVALID] * 2
    with pytest.raises(EntityError, match="Unknown filter type for entity 'e': 'nosuch'"):
        filtered(table, [{"type": "nosuch"}])


def test_exists_in_checks_its_settings():
    table = pd.DataFrame({"a": [1, 2, 2], "b": ["x", "y", "z"]})
    store = {"other": pd.DataFrame({"k": [2, 3]})}
    kept = filtered(
        table,
        [{"type": "exists_in", "column": "a", "other_entity": "other", "other_column": "k"}],
        store=store,
    )
    assert kept["b"].tolist() == ["y", "z"]
    once = [
        {
            "type": "exists_in",
            "column": "a",
            "other_entity": "other",
            "other_column": "k",
            "drop_duplicates": "a",
        }
    ]
    assert filtered(table, once, store=store)["b"].tolist() == ["y"]
    for spec, message in [
        ({"column": "a"}, "needs `column` and `other_entity`"),
        ({"column": "a", "other_entity": "gone"}, "entity 'gone' has not been processed"),
        ({"column": "zz", "other_entity": "other"}, "column 'zz' not found"),
        ({"column": "a", "other_entity": "other"}, "column 'a' not found in 'other'"),
    ]:
        with pytest.raises(EntityError, match=message):
            filtered(table, [{"type": "exists_in", **spec}], store=store)


# --- what a query may do ---------------------------------------------------------------------------


@pytest.fixture
def samples() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample": ["P1", "P2", "P3", "P4"],
            "taxon": ["Oak", "Pine", "Oak", "Elm"],
            "count": [1.0, 2.0, 3.0, None],
            "odd name": [1, 2, 3, 4],
        }
    )


@pytest.mark.parametrize(
    ("query", "samples_kept"),
    [
        ("sample.str.startswith('P') and count > 1", ["P2", "P3"]),
        ("`odd name` >= 3", ["P3", "P4"]),
        ("taxon in ['Oak', 'Elm'] & ~(count == 1)", ["P3", "P4"]),
        ("count * 2 > 3 or count.isna()", ["P2", "P3", "P4"]),
        ("abs(count - 2) < 1 | taxon.str.contains('^E', regex=True)", ["P2", "P4"]),
        ("sample.str[1] == '1'", ["P1"]),
        ("count ** 2 == 4", ["P2"]),
        ("taxon.isin(['Pine']) and count.between(1, 3)", ["P2"]),
    ],
)
def test_queries_within_the_allowed_subset(samples, query, samples_kept):
    assert filtered(samples, [{"type": "query", "query": query}])["sample"].tolist() == samples_kept


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("sample == @secret", "local variables (@name) are not allowed"),
        ("sample.__class__ == 1", "attribute or method '__class__' is not allowed"),
        ("sample.str._data == 1", "attribute or method '_data' is not allowed"),
        ("sample.apply(print)", "attribute or method 'apply' is not allowed"),
        ("sample.str.repeat(1000000000) == 'x'", "attribute or method 'repeat' is not allowed"),
        ("(lambda: 1)() == 1", "only methods of columns and plain math functions may be called"),
        ("sample == (lambda: 1)", "Lambda is not allowed"),
        ("sample.str[0:1] == 'P'", "only constant integer indexes are allowed"),
        ("[x for x in sample] == 1", "ListComp is not allowed"),
        ("eval('1') == 1", "function 'eval' is not allowed"),
        ("__import__('os') == 1", "function '__import__' is not allowed"),
        ("sample == f'{sample}'", "JoinedStr is not allowed"),
        ("count ** 10 ** 10 > 1", "constant exponent of at most 64"),
        ("count ** 1000000 > 1", "constant exponent of at most 64"),
        ("sample * 1000000000 == 'x'", "'*' is only allowed between numbers and numeric columns"),
        ("'a' * 1000000000 == sample", "'*' is only allowed between numbers and numeric columns"),
        ("sample.str.contains('(a+)+$')", "can take exponential time"),
        ("sample.str.contains('a', **{'regex': True})", "keyword argument None is not allowed"),
        ("sample is None", "Is is not allowed"),
        ("sample == {'a': 1}", "Dict is not allowed"),
        ("sample ==", "syntax error"),
        ("x" * 5001, "longer than 5,000 characters"),
        ("count" + " + count" * 200 + " > 1", "nested deeper than 100 levels"),
        ("-" * 150 + "count > 0", "nested deeper than 100 levels"),
    ],
)
def test_queries_beyond_the_subset_are_refused(samples, query, reason):
    with pytest.raises(EntityError, match="Invalid query in filter") as caught:
        filtered(samples, [{"type": "query", "query": query}])
    assert reason in str(caught.value)


def test_a_query_deeper_than_the_parser_goes_is_refused_not_crashed(samples):
    # Python 3.11's parser gives up on it (RecursionError), 3.13's parses it and the depth bound refuses it
    with pytest.raises(EntityError, match="Invalid query in filter"):
        filtered(samples, [{"type": "query", "query": "-" * 4000 + "count > 0"}])


def test_a_refused_query_is_refused_before_it_runs(samples):
    with pytest.raises(ValueError, match="exponential"):
        check_query("sample.str.match('(x|x)*y')", samples)


def test_a_literal_regex_is_allowed_when_contains_does_not_use_regexes(samples):
    query = "sample.str.contains('(a+)+$', regex=False)"
    assert filtered(samples, [{"type": "query", "query": query}]).empty
