"""shapeshift.diff: rows matched by identity across two runs, FK columns by the parent row they point to."""

import pyarrow as pa
import pytest

from shapeshift.diff import ArrowFile, Identity, StoredTable, diff_runs, read_table


def table(**columns) -> pa.Table:
    return pa.table({name: pa.array(values, type=pa.string()) for name, values in columns.items()})


def stored(t: pa.Table, digest=None) -> StoredTable:
    return StoredTable(read=lambda: t, digest=digest, rows=t.num_rows)


def one(base, head, identity=None, name="e"):
    identity = identity or Identity()
    (result,) = diff_runs({name: stored(base)}, {name: stored(head)}, {name: identity})
    return result


def test_keys_match_rows_whatever_their_system_id():
    base = table(system_id=["1", "2", "3"], code=["a", "b", "c"], value=["x", "y", "z"])
    head = table(system_id=["1", "2"], code=["b", "c"], value=["y", "CHANGED"])
    result = one(base, head, Identity(keys=("code",)))
    assert (result.matched_on, result.only_in_base, result.only_in_head) == ("keys", 1, 0)
    assert (result.changed, result.unchanged) == (1, 1)
    assert result.samples["only_in_base"] == [{"system_id": "1", "code": "a", "value": "x"}]
    assert result.samples["changed"][0]["columns"] == ["value"]
    assert result.column_match == {"code": 100.0, "value": 50.0}


def test_foreign_keys_compare_by_the_parent_row_they_point_to():
    # the first parent row is gone: every remaining parent gets a new system_id
    parent_base = table(system_id=["1", "2", "3"], code=["a", "b", "c"])
    parent_head = table(system_id=["1", "2"], code=["b", "c"])
    child_base = table(system_id=["1", "2"], parent_id=["2", "3"], n=["10", "20"])
    child_head = table(
        system_id=["1", "2"], parent_id=["1", "1"], n=["10", "20"]
    )  # second row now points at b
    identities = {
        "parent": Identity(keys=("code",)),
        "child": Identity(keys=("n",), foreign_keys={"parent_id": "parent"}),
    }
    results = diff_runs(
        {"child": stored(child_base), "parent": stored(parent_base)},
        {"child": stored(child_head), "parent": stored(parent_head)},
        identities,
    )
    child = next(r for r in results if r.entity == "child")
    assert (child.unchanged, child.changed) == (1, 1)
    assert child.samples["changed"][0]["columns"] == ["parent_id"]


def test_whole_rows_as_a_multiset_and_an_edited_row_as_changed():
    base = table(a=["1", "1", "2", "3"], b=["p", "p", "q", "r"], c=["u", "u", "v", "w"])
    head = table(a=["1", "2", "3"], b=["p", "q", "EDITED"], c=["u", "v", "w"])
    result = one(base, head)
    assert result.matched_on == "row"
    assert (result.only_in_base, result.only_in_head, result.changed, result.unchanged) == (1, 0, 1, 2)


def test_rows_with_little_in_common_are_removed_and_added_not_changed():
    base = table(a=["1"], b=["p"], c=["u"])
    head = table(a=["9"], b=["z"], c=["u"])
    result = one(base, head)
    assert (result.only_in_base, result.only_in_head, result.changed) == (1, 1, 0)


def test_repeated_keys_with_reordered_rows_are_unchanged():
    base = table(system_id=["1", "2", "3"], k=["3.0", "3.0", "4.0"], v=["!", "", "x"])
    head = table(system_id=["1", "2", "3"], k=["3.0", "4.0", "3.0"], v=["", "x", "!"])
    result = one(base, head, Identity(keys=("k",)))
    assert (result.changed, result.unchanged, result.differs) == (0, 3, False)


def test_identical_tables_are_not_read():
    def unreadable():
        raise AssertionError("read although identical")

    same = StoredTable(read=unreadable, digest="abc", rows=7)
    (result,) = diff_runs({"e": same}, {"e": same}, {"e": Identity()})
    assert result.identical and result.unchanged == 7 and not result.differs


def test_columns_added_and_removed_and_entities_present_on_one_side():
    base = table(k=["a"], old=["1"])
    head = table(k=["a"], new=["1"])
    result = one(base, head, Identity(keys=("k",)))
    assert (result.columns_added, result.columns_removed, result.unchanged) == (["new"], ["old"], 1)
    results = diff_runs({}, {"only": stored(head)}, {})
    assert (results[0].matched_on, results[0].only_in_head) == ("absent_in_base", 1)


def test_read_table_keeps_text_exactly(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('system_id,a,b\n1,3.0,\n2,"x,y",007\n', encoding="utf-8")
    assert read_table(path).to_pylist() == [
        {"system_id": "1", "a": "3.0", "b": ""},
        {"system_id": "2", "a": "x,y", "b": "007"},
    ]


@pytest.fixture(scope="module")
def arbodat_runs(tmp_path_factory):
    """The Arbodat survey run as it is, without its first data row, and with one cell edited."""
    import shutil
    import subprocess
    import sys

    from tests.shapeshift.engine_support import ARBODAT

    root = tmp_path_factory.mktemp("diff")
    outputs = {}
    for variant in ("base", "removed", "edited"):
        folder = root / variant
        shutil.copytree(ARBODAT, folder, ignore=shutil.ignore_patterns("original"))
        survey = folder / "survey.csv"
        lines = survey.read_text(encoding="utf-8").split("\n")
        if variant == "removed":
            del lines[1]
        elif variant == "edited":
            header = lines[0].split(";")
            cells = lines[5].split(";")
            cells[header.index("SumFAnzahl")] = "999"
            lines[5] = ";".join(cells)
        survey.write_text("\n".join(lines), encoding="utf-8")
        out = root / f"out-{variant}"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "shapeshift",
                "run",
                str(folder / "reduced-arbodat.yml"),
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        outputs[variant] = (folder, out)
    return outputs


def _arbodat_diff(arbodat_runs, head):
    import hashlib

    import shapeshift
    from shapeshift.diff import identities

    def tables(out):
        return {
            p.stem: StoredTable(
                read=lambda p=p: read_table(p), digest=hashlib.sha256(p.read_bytes()).hexdigest()
            )
            for p in sorted(out.glob("*.csv"))
        }

    folder, out = arbodat_runs[head]
    project = shapeshift.load(folder / "reduced-arbodat.yml")
    return {r.entity: r for r in diff_runs(tables(arbodat_runs["base"][1]), tables(out), identities(project))}


@pytest.mark.slow
def test_arbodat_without_its_first_row(arbodat_runs):
    results = _arbodat_diff(arbodat_runs, "removed")
    counts = {name: (r.only_in_base, r.only_in_head, r.changed) for name, r in results.items() if r.differs}
    assert counts == {
        "result_base": (8, 0, 0),
        "survey": (1, 0, 0),
        "sample_taxa": (1, 0, 0),
        "sample_archaeological_period": (1, 0, 0),
        "sample_chronological_period": (1, 0, 0),
    }
    assert len(results) == 55


@pytest.mark.slow
def test_arbodat_with_one_edited_cell(arbodat_runs):
    results = _arbodat_diff(arbodat_runs, "edited")
    counts = {name: (r.only_in_base, r.only_in_head, r.changed) for name, r in results.items() if r.differs}
    assert counts == {"result_base": (0, 0, 8), "survey": (0, 0, 1)}
    assert {tuple(s["columns"]) for s in results["result_base"].samples["changed"]} == {("SumFAnzahl",)}


# --- Arrow copies read a column at a time (what ShiftBench's diffs read) ----------------------------------


def arrow_copy(csv_path, typed=()):
    """The table as ShiftBench's explorer copies it: text dictionary-encoded, "" as null, `typed` as int64."""
    import csv

    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv
    import pyarrow.ipc as ipc

    header = next(csv.reader(open(csv_path, encoding="utf-8")), [])
    types = {name: pa.int64() if name in typed else pa.string() for name in header}
    options = pa_csv.ConvertOptions(
        column_types=types, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True
    )
    read = pa_csv.read_csv(csv_path, convert_options=options).combine_chunks()
    columns = [c.chunk(0) if c.num_chunks else pa.array([], c.type) for c in read.columns]
    columns = [pc.dictionary_encode(c) if pa.types.is_string(c.type) else c for c in columns]
    copy = csv_path.with_suffix(".arrow")
    table = pa.Table.from_arrays(columns, names=header)
    with ipc.new_file(str(copy), table.schema) as writer:
        writer.write_table(table)
    return ArrowFile(copy)


@pytest.mark.parametrize("whole_below, opened", [(0, 6), (ArrowFile.WHOLE_BELOW, 1)])
def test_an_arrow_copy_is_read_a_column_at_a_time_when_big(tmp_path, monkeypatch, whole_below, opened):
    path = tmp_path / "t.csv"
    path.write_text("system_id,a,b\n1,x,\n2,,007\n", encoding="utf-8")
    arrow_copy(path, typed=("system_id",))
    monkeypatch.setattr(ArrowFile, "WHOLE_BELOW", whole_below)
    opens = []

    def open_copy():
        opens.append(1)
        return pa.OSFile(str(path.with_suffix(".arrow")))

    copy = ArrowFile(open_copy)
    assert (copy.column_names, copy.num_rows) == (["system_id", "a", "b"], 2)
    assert copy["b"].to_pylist() == [None, "007"]
    assert copy.take(pa.array([1])).to_pylist() == [{"system_id": 2, "a": None, "b": "007"}]
    assert len(opens) == opened  # big: the schema, num_rows (system_id), b, then take reads all three


def test_a_copy_compares_as_its_csv_text_even_against_a_csv(tmp_path):
    (tmp_path / "base.csv").write_text("system_id,k,n,e\n1,a,1,\n2,b,2,x\n", encoding="utf-8")
    (tmp_path / "head.csv").write_text("system_id,k,n,e\n1,a,1,\n2,b,3,x\n", encoding="utf-8")
    base = arrow_copy(tmp_path / "base.csv", typed=("system_id", "n"))  # n is a number here...
    head = read_table(tmp_path / "head.csv")  # ...and text here
    result = diff_runs(
        {"e": StoredTable(read=lambda: base)},
        {"e": StoredTable(read=lambda: head)},
        {"e": Identity(keys=("k",))},
    )[0]
    assert (result.unchanged, result.changed) == (1, 1)  # "" equals null, 1 equals "1"; 2 is not "3"
    assert result.samples["changed"] == [
        {
            "base": {"system_id": "2", "k": "b", "n": "2", "e": "x"},
            "head": {"system_id": "2", "k": "b", "n": "3", "e": "x"},
            "columns": ["n"],
        }
    ]


@pytest.mark.slow
@pytest.mark.parametrize("head", ["removed", "edited"])
def test_arbodat_diffs_the_same_from_arrow_copies_as_from_csv(arbodat_runs, head, tmp_path):
    import shapeshift
    from shapeshift.diff import identities

    def tables(out, copies):
        read = (
            (lambda p: lambda: arrow_copy(p, typed=("system_id",)))
            if copies
            else (lambda p: lambda: read_table(p))
        )
        return {p.stem: StoredTable(read=read(p)) for p in sorted(out.glob("*.csv"))}

    folder, out = arbodat_runs[head]
    found = identities(shapeshift.load(folder / "reduced-arbodat.yml"))
    base_out = arbodat_runs["base"][1]
    from_csv = [r.as_dict() for r in diff_runs(tables(base_out, False), tables(out, False), found)]
    from_copies = [r.as_dict() for r in diff_runs(tables(base_out, True), tables(out, True), found)]
    assert from_copies == from_csv
    assert sum(r["only_in_base"] + r["changed"] for r in from_csv) > 0
