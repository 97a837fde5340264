"""shapeshift.csvwriter.write_csv writes exactly what DataFrame.to_csv(index=False) writes."""

from __future__ import annotations

import datetime
import io
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shapeshift
from shapeshift import csvwriter
from shapeshift.csvwriter import write_csv
from tests.shapeshift.engine_support import ARBODAT, needs_arbodat


def pandas_bytes(table: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    table.to_csv(buffer, index=False, encoding="utf-8")
    return buffer.getvalue()


def written(table: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    write_csv(table, buffer)
    return buffer.getvalue()


# Characters the csv module quotes for, and others that must pass as they are.
text = st.text(alphabet=st.sampled_from(list(",\"\r\n \t;'aBz0é€😀")), max_size=6)
missing = st.sampled_from([None, np.nan, pd.NA])
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-0.0, 0.0, 1e-7, 1e22, 1e16, 0.1, 1 / 3, 123456789.125, float("nan"), float("inf")]),
)
anything = st.one_of(text, missing, st.integers(-(2**70), 2**70), floats, st.booleans())


@st.composite
def columns(draw, n: int):
    """One column of n rows, of a dtype drawn from those pandas tables hold."""
    kind = draw(
        st.sampled_from(
            [
                "text",
                "text_missing",
                "mixed",
                "category",
                "category_int",
                "category_float",
                "int64",
                "int_small",
                "uint8",
                "bool",
                "Int64",
                "boolean",
                "Float64",
                "string",
                "float64",
                "float32",
                "datetime",
                "timedelta",
                "complex",
            ]
        )
    )

    def values(strategy):
        return draw(st.lists(strategy, min_size=n, max_size=n))

    few = st.sampled_from(["a", "", "b,c", 'say "hi"', "x\ny", " pad "])
    if kind == "text":
        return pd.Series(values(text), dtype=object)
    if kind == "text_missing":
        return pd.Series(values(st.one_of(few, missing)), dtype=object)
    if kind == "mixed":
        return pd.Series(values(anything), dtype=object)
    if kind == "category":
        return pd.Series(pd.Categorical(values(st.one_of(few, st.none()))))
    if kind == "category_int":
        return pd.Series(pd.Categorical(values(st.one_of(st.integers(-3, 3), st.none()))))
    if kind == "category_float":
        return pd.Series(
            pd.Categorical(values(st.one_of(st.sampled_from([0.5, -0.0, 1e22, 2.0]), st.none())))
        )
    if kind == "int64":
        return pd.Series(values(st.integers(-(2**63), 2**63 - 1)), dtype=np.int64)
    if kind == "int_small":
        return pd.Series(values(st.integers(-2, 5)), dtype=np.int64)
    if kind == "uint8":
        return pd.Series(values(st.integers(0, 255)), dtype=np.uint8)
    if kind == "bool":
        return pd.Series(values(st.booleans()), dtype=bool)
    if kind == "Int64":
        return pd.Series(
            pd.array(values(st.one_of(st.integers(-(2**63), 2**63 - 1), st.none())), dtype="Int64")
        )
    if kind == "boolean":
        return pd.Series(pd.array(values(st.one_of(st.booleans(), st.none())), dtype="boolean"))
    if kind == "Float64":
        return pd.Series(pd.array(values(st.one_of(st.floats(allow_nan=False), st.none())), dtype="Float64"))
    if kind == "string":
        return pd.Series(pd.array(values(st.one_of(text, st.none())), dtype="string"))
    if kind == "float64":
        return pd.Series(values(floats), dtype=np.float64)
    if kind == "float32":
        return pd.Series(values(st.floats(width=32, allow_nan=True)), dtype=np.float32)
    if kind == "datetime":
        moments = st.one_of(
            st.datetimes(datetime.datetime(1900, 1, 1), datetime.datetime(2100, 1, 1)), st.none()
        )
        return pd.Series(pd.to_datetime(values(moments)))
    if kind == "timedelta":
        return pd.Series(
            pd.to_timedelta(values(st.one_of(st.integers(-(10**8), 10**8), st.none())), unit="s")
        )
    return pd.Series(values(st.complex_numbers(allow_nan=True, allow_infinity=False)), dtype=complex)


@st.composite
def tables(draw):
    n = draw(st.integers(min_value=0, max_value=40))
    names = draw(st.lists(st.one_of(text, st.sampled_from(["a", "b", "a"])), min_size=1, max_size=5))
    table = pd.concat([draw(columns(n)) for _ in names], axis=1, ignore_index=True)
    table.columns = names
    return table


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), chunk=st.sampled_from([1, 3, 7, 500_000]))
def test_it_writes_what_pandas_writes_for_every_kind_of_column(table, chunk):
    with mock.patch.object(csvwriter, "CHUNK_FIELDS", chunk):
        assert written(table) == pandas_bytes(table)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    codes=st.lists(
        st.tuples(st.integers(-1, 2), st.integers(-1, 2), st.integers(0, 3)), min_size=50, max_size=400
    ),
    chunk=st.sampled_from([10, 99, 500_000]),
)
def test_it_writes_what_pandas_writes_when_neighbouring_columns_are_combined(codes, chunk):
    # Low-cardinality neighbours over many rows: their code combinations are formatted once.
    first, second, third = zip(*codes, strict=True)
    table = pd.DataFrame(
        {
            "id": np.arange(len(codes)) * 1000,
            "site": pd.Categorical.from_codes(first, ["S,1", 'S"2', "S 3"]),
            "note": pd.Series([None, "", "x\ny", "ok"], dtype=object).take(np.array(second) + 1).to_numpy(),
            "flag": np.array(third) % 2 == 0,
            "count": np.array(third),
        }
    )
    with mock.patch.object(csvwriter, "CHUNK_FIELDS", chunk):
        assert written(table) == pandas_bytes(table)


@pytest.mark.parametrize(
    "table",
    [
        pd.DataFrame({"a": ["", "x", None, np.nan]}),
        pd.DataFrame({"": pd.Categorical(["", None, "x"])}),
        pd.DataFrame({"a": pd.array([None, 1], dtype="Int64")}),
    ],
    ids=["object", "category", "Int64"],
)
def test_it_writes_a_lone_empty_field_as_two_quotes(table):
    # csv.writer writes `""` for a row of one empty field, else the row would be a blank line.
    assert written(table).splitlines()[1] == b'""'
    assert written(table) == pandas_bytes(table)


def test_it_quotes_separators_quotes_and_line_ends_as_the_csv_module_does():
    table = pd.DataFrame(
        {'col,"1"': ["a,b", 'say "hi"', "x\ny", "x\ry", " pad ", "é😀"], "n": range(6)},
    )
    expected = pandas_bytes(table)
    assert written(table) == expected
    assert expected.startswith(b'"col,""1""",n')


def test_it_writes_to_a_path_as_to_a_binary_file(tmp_path):
    table = pd.DataFrame({"text": pd.Categorical(["ä", "b", None]), "n": [1, 2, 3]})
    write_csv(table, tmp_path / "out.csv")
    write_csv(table, str(tmp_path / "out2.csv"))
    with open(tmp_path / "out3.csv", "wb") as handle:
        write_csv(table, handle)
    table.to_csv(tmp_path / "pandas.csv", index=False)
    expected = (tmp_path / "pandas.csv").read_bytes()
    for name in ("out.csv", "out2.csv", "out3.csv"):
        assert (tmp_path / name).read_bytes() == expected


def test_it_writes_a_big_table_a_chunk_at_a_time():
    # Memory stays bounded: no single write holds more than a chunk of rows.
    table = pd.DataFrame({"id": np.arange(10_000), "text": pd.Categorical(["abc", "de"] * 5_000)})
    sizes: list[int] = []

    class Sink(io.BytesIO):
        def write(self, data):
            sizes.append(len(data))
            return super().write(data)

    sink = Sink()
    with mock.patch.object(csvwriter, "CHUNK_FIELDS", 1_000):  # 500 rows of two fields
        write_csv(table, sink)
    assert sink.getvalue() == pandas_bytes(table)
    assert len(sizes) > 20
    assert max(sizes) < len(sink.getvalue()) / 10


@pytest.mark.parametrize(
    "table",
    [
        pd.DataFrame(index=range(3)),
        pd.DataFrame(columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")]), data=[[1, 2]]),
        pd.DataFrame({"when": pd.Categorical(pd.to_datetime(["2024-01-01", None]))}),
        pd.DataFrame({"p": pd.period_range("2024-01", periods=2, freq="M")}),
    ],
    ids=["no columns", "column MultiIndex", "datetime categories", "periods"],
)
def test_it_leaves_tables_it_does_not_format_to_pandas(table):
    assert written(table) == pandas_bytes(table)


@pytest.mark.slow
@needs_arbodat
@pytest.mark.parametrize("default_entity", [False, True], ids=["reduced", "default-entity"])
def test_every_arbodat_table_is_written_as_pandas_writes_it(default_entity):
    name = "reduced-arbodat.default-entity.yml" if default_entity else "reduced-arbodat.yml"
    project = shapeshift.load(ARBODAT / name)
    inputs = {"survey": ARBODAT / "survey.csv"} if default_entity else None
    plan = shapeshift.plan(project, default_entity="survey" if default_entity else None)
    different: list[str] = []

    def compare(entity, table):
        if written(table) != pandas_bytes(table):
            different.append(entity)

    # compact_text=True as in the CLI: text stays category up to the writer.
    result = shapeshift.run(
        project, plan, inputs=inputs, keep_tables=False, on_table=compare, compact_text=True
    )
    assert result.ok
    assert len(result.outcomes) == 55
    assert different == []
