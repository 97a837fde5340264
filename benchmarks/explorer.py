"""The entity page's table explorer at 1,000,000 rows, and what its stored copy costs a full run.

1. ``result_base`` of a full run of the Arbodat survey (18,912 rows, 16 columns) repeated to 1,000,000 rows
   (``system_id`` renumbered), stored as a run stores it (``shapeshift.write_csv``), then its explorer copy
   made (``testruns.explorer.store_copy``): both timed; the copy also in a process of its own, for its peak
   memory beside a process that only starts Django (a worker makes the copies right after a run).
2. The explorer's pages of it, each timed from opening the stored copy (memory-mapped, as a fresh request
   does) to the rows of the page as Python values: first page, sorted by text and by number, filtered
   (equals, contains), sorted and filtered, a deep page, and a column profile. Min and median of --repeat.
3. In benchmarks/full_run.py's terms: a full run of the Arbodat survey repeated --times times (every entity,
   all rows), the time its tables' CSVs take to write and the time their explorer copies add.

    .venv/bin/python benchmarks/explorer.py [--rows 1000000] [--repeat 5] [--times 10]

Prints figures; never passes or fails.
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from engine import ROOT, make_folder  # noqa: E402  (the same scaled copies of the survey)

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiftbench.settings")
os.environ.setdefault("SHIFTBENCH_LOG_LEVEL", "WARNING")

QUERIES = [
    ("first page", ""),
    ("sorted by text (PCODE)", "sort=PCODE"),
    ("sorted by number, descending", "sort=SumFAnzahl&desc=1"),
    ("filtered: equals", "col=RTyp&op=eq&q=Ho"),
    ("filtered: contains", "col=ProbNr&op=contains&q=0025"),
    ("filtered and sorted", "col=RTyp&op=eq&q=Ho&sort=ProbNr&desc=1"),
    ("deep page (page 19,000)", "page=19000"),
    ("deep page, sorted, filtered", "col=RTyp&op=eq&q=Ho&sort=PCODE&page=300"),
    ("column profile (PCODE)", "profile=PCODE"),
]


class Result:
    """Just what store_copy/open_table read of an EntityResult."""

    def __init__(self, name, dtypes):
        from django.core.files.storage import default_storage

        self.output = default_storage.open(name)
        self.output.close()
        self.dtypes, self.output_lost = dtypes, ""


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def full_table(folder: pathlib.Path, rows: int):
    """result_base of a full run, repeated to ``rows`` rows, with its dtypes."""
    import numpy as np
    import pandas as pd

    import shapeshift

    project = shapeshift.load(folder / "reduced-arbodat.yml")
    result = shapeshift.run(project, shapeshift.plan(project, ["result_base"]))
    table = result.tables["result_base"]
    big = pd.concat([table] * (rows // len(table) + 1), ignore_index=True).iloc[:rows].copy()
    big["system_id"] = np.arange(1, rows + 1, dtype="int64")
    dtypes = {str(c): "object" if str(t) == "category" else str(t) for c, t in big.dtypes.items()}
    return big, dtypes


def store(table, dtypes, name: str) -> tuple[float, float, Result]:
    from django.core.files.storage import default_storage

    import shapeshift
    from configurations.storage import StagedFile
    from testruns import explorer

    def write_csv():
        with StagedFile("bench") as staged:
            shapeshift.write_csv(table, staged.writer)
            staged.commit(name)

    csv_seconds = timed(write_csv)
    copy_seconds = timed(lambda: explorer.store_copy(name, dtypes))
    assert default_storage.exists(explorer.copy_name(name))
    return csv_seconds, copy_seconds, Result(name, dtypes)


COPY = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiftbench.settings")
django.setup()
if sys.argv[1]:
    import json
    from django.core.files.storage import default_storage
    from testruns import explorer
    default_storage.delete(explorer.copy_name(sys.argv[1]))
    assert explorer.store_copy(sys.argv[1], json.loads(sys.argv[2]))
# VmHWM, not the parent's ru_maxrss: that counts what this benchmark's process held when it forked
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024)
"""


def copy_memory(name: str, dtypes: dict) -> tuple[float, float]:
    """Peak MiB of a process making the copy of ``name``, and of one that only starts Django."""
    import json

    def peak(*argv) -> float:
        done = subprocess.run([sys.executable, "-c", COPY, *argv], check=True, capture_output=True, text=True)
        return float(done.stdout.split()[-1])

    return peak(name, json.dumps(dtypes)), peak("", "{}")


def pages(result: Result, repeat: int) -> None:
    from django.http import QueryDict

    from testruns import explorer

    columns = explorer.open_table(result).schema.names
    print(f"{'explorer page at 1,000,000 rows':<34} {'min ms':>7} {'median ms':>9} {'rows':>10}")
    for label, text in QUERIES:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            view = explorer.explore(
                explorer.open_table(result), explorer.Query.from_params(QueryDict(text), columns)
            )
            times.append(time.perf_counter() - start)
        print(
            f"{label:<34} {min(times) * 1000:>7.1f} {statistics.median(times) * 1000:>9.1f} {view.count:>10,}"
        )


def full_run(folder: pathlib.Path) -> tuple[float, float, float, int]:
    """Seconds of a full run (engine and CSVs), of its CSVs and of its explorer copies; number of tables."""
    import shapeshift
    from configurations.storage import StagedFile
    from testruns import explorer

    spent = {"csv": 0.0, "copy": 0.0, "tables": 0}

    def on_table(name, table):
        dtypes = {str(c): "object" if str(t) == "category" else str(t) for c, t in table.dtypes.items()}
        path = f"full/{spent['tables']}.csv"
        start = time.perf_counter()
        with StagedFile("full") as staged:
            shapeshift.write_csv(table, staged.writer)
            staged.commit(path)
        middle = time.perf_counter()
        explorer.store_copy(path, dtypes)
        spent["csv"] += middle - start
        spent["copy"] += time.perf_counter() - middle
        spent["tables"] += 1

    project = shapeshift.load(folder / "reduced-arbodat.yml")
    start = time.perf_counter()
    shapeshift.run(project, shapeshift.plan(project), keep_tables=False, on_table=on_table, compact_text=True)
    total = time.perf_counter() - start
    return total - spent["copy"], spent["csv"], spent["copy"], spent["tables"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--times", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        base = pathlib.Path(temp)
        os.environ["SHIFTBENCH_VAR_DIR"] = str(base / "var")
        import django

        django.setup()
        table, dtypes = full_table(make_folder(base, 1), args.rows)
        csv_seconds, copy_seconds, result = store(table, dtypes, "bench/result_base.csv")
        del table
        print(
            f"result_base x{args.rows:,} rows: CSV written in {csv_seconds:.2f} s, explorer copy made in "
            f"{copy_seconds:.2f} s ({copy_seconds / csv_seconds:.2f}x the CSV's time)"
        )
        peak, started = copy_memory("bench/result_base.csv", dtypes)
        print(f"  that copy made in a process of its own: peak {peak:.0f} MiB ({started:.0f} MiB to start)")
        pages(result, args.repeat)
        run, csvs, copies, tables = full_run(make_folder(base, args.times))
        print(
            f"full run of the survey x{args.times} ({tables} tables): {run:.2f} s without copies, of which "
            f"{csvs:.2f} s writing CSVs; the explorer copies add {copies:.2f} s "
            f"(+{copies / run:.0%} of the run)"
        )


if __name__ == "__main__":
    main()
