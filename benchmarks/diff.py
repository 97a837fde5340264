"""Benchmark diffing two full runs of the Arbodat survey (issue #11: goal under 5 s and 400 MiB at 50x).

Plain script, no pass/fail. For each size it writes two runs with the CLI (not timed): the survey
repeated N times, and the same survey without its first data row, and the Arrow copy of each table that
ShiftBench makes when a run ends (`testruns.explorer.store_copy`, all columns as text here; not timed).
Then, as separate processes side by side, it times (a) reading every stored CSV of both runs (what a diff
of the CSVs must at least do), (b) `shapeshift.diff.diff_runs` over the Arrow copies, read a column at a
time, as ShiftBench diffs runs, (c) the same over the CSVs, each read whole (the engine's own use), both
with the tables' sha256 digests given (the app has them from when the tables were stored; here they are
computed before, outside the timed process: a table identical in both runs is not read), (d) the CSVs
without digests (every table read and matched), and (e) ShiftBench itself: `manage.py diff_runs` of two full
test runs of the two surveys (run by `run_test --sync`, their copies made, not timed), a whole Django process.
Wall seconds (min and median with --repeat), peak RSS from os.wait4, and (b)-(d) as ratios of (a).

    .venv/bin/python benchmarks/diff.py [--sizes 1,50] [--repeat 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile

from engine import Summary, make_folder, measure

ROOT = pathlib.Path(__file__).resolve().parents[1]

READ = """
import pathlib, sys
from shapeshift.diff import read_table
rows = sum(read_table(p).num_rows for d in sys.argv[1:3] for p in sorted(pathlib.Path(d).glob("*.csv")))
print(rows)
"""

DIFF = """
import json, pathlib, sys, time, shapeshift
from shapeshift.diff import ArrowFile, StoredTable, diff_runs, identities, read_table
base, head, config, copies = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5]
digests = json.loads(sys.argv[4])
def reader(p):
    if copies == "copies":
        return lambda: ArrowFile(p.with_suffix(".arrow"))
    return lambda: read_table(p)
def stored(folder):
    paths = sorted(pathlib.Path(folder).glob("*.csv"))
    return {p.stem: StoredTable(read=reader(p), digest=digests.get(str(p))) for p in paths}
started = time.perf_counter()
results = diff_runs(stored(base), stored(head), identities(shapeshift.load(config)))
result_base = next(r for r in results if r.entity == "result_base")
print(time.perf_counter() - started, result_base.only_in_base, sum(r.differs for r in results))
"""

APP_SETUP = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiftbench.settings")
import django
django.setup()
from testruns.explorer import store_copies
from testruns.models import RunDiff, TestRun
if sys.argv[1] == "copies":
    for run in TestRun.objects.all():
        store_copies(run.pk)
    print(" ".join(str(run.pk) for run in TestRun.objects.order_by("created_at")))
else:  # forget the kept diff, so that diff_runs computes it again
    RunDiff.objects.all().delete()
"""

COPIES = """
import os, pathlib, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiftbench.settings")
import django
django.setup()
from django.core.files.storage import FileSystemStorage
from testruns.explorer import store_copy
for folder in sys.argv[1:]:
    storage = FileSystemStorage(location=folder)
    for path in sorted(pathlib.Path(folder).glob("*.csv")):
        assert store_copy(path.name, {}, storage), path
"""


def without_first_row(folder: pathlib.Path) -> pathlib.Path:
    head = folder.with_name(folder.name + "-head")
    subprocess.run(["cp", "-r", str(folder), str(head)], check=True)
    survey = head / "survey.csv"
    header, _, body = survey.read_bytes().partition(b"\n")
    survey.write_bytes(header + b"\n" + body.partition(b"\n")[2])
    return head


def app_runs(var: pathlib.Path, base: pathlib.Path, head: pathlib.Path) -> tuple[str, str]:
    """Full test runs of both surveys through ShiftBench (in a throwaway var folder), their Arrow copies
    made as a worker makes them when a run ends; returns the two runs' ids. Sets SHIFTBENCH_VAR_DIR."""
    os.environ.update(SHIFTBENCH_VAR_DIR=str(var), SHIFTBENCH_LOG_LEVEL="WARNING")
    manage = [sys.executable, str(ROOT / "manage.py")]
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "cwd": ROOT}
    subprocess.run([*manage, "migrate", "-v0"], **quiet)
    for name, folder in (("base", base), ("head", head)):
        subprocess.run(
            [*manage, "import_configuration", str(folder / "reduced-arbodat.yml"), "--name", name], **quiet
        )
        subprocess.run([*manage, "run_test", name, "--sync", "--max-rows", "all"], **quiet)
    ids = subprocess.run(
        [sys.executable, "-c", APP_SETUP, "copies"], check=True, capture_output=True, cwd=ROOT
    )
    base_run, head_run = ids.stdout.decode().split()
    return base_run, head_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,50")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    python = sys.executable
    print(f"seconds as min and median of {args.repeat} run(s), ratio to reading both runs; peak RSS in MiB")
    part = f"{'s min':>6} {'s med':>6} {'ratio':>5} {'ratio':>5} {'peak':>5}"
    columns = ("diff, Arrow copies", "diff, CSVs", "diff, CSVs, every one read", "manage.py diff_runs")
    print(f"{'':15} | {'read both runs':<19} | " + " | ".join(f"{c:<31}" for c in columns))
    header = f"{'size':>5} {'rows':>8} | {'s min':>6} {'s med':>6} {'peak':>5} | " + " | ".join([part] * 4)
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as temp:
        os.environ["SHIFTBENCH_VAR_DIR"] = str(
            pathlib.Path(temp) / "var"
        )  # the copies' Django, then app_runs'
        for times in [int(s) for s in args.sizes.split(",")]:
            base = make_folder(pathlib.Path(temp), times)
            head = without_first_row(base)
            for folder in (base, head):
                subprocess.run(
                    [
                        python,
                        "-m",
                        "shapeshift",
                        "run",
                        str(folder / "reduced-arbodat.yml"),
                        "--out",
                        str(folder / "out"),
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                    cwd=ROOT,
                )
            outs = [str(base / "out"), str(head / "out"), str(head / "reduced-arbodat.yml")]
            subprocess.run([python, "-c", COPIES, *outs[:2]], check=True, cwd=ROOT)
            digests = {
                str(path): hashlib.sha256(path.read_bytes()).hexdigest()
                for out in outs[:2]
                for path in pathlib.Path(out).glob("*.csv")
            }
            known = json.dumps(digests)
            base_run, head_run = app_runs(pathlib.Path(temp) / f"app-{times}", base, head)
            manage = [python, str(ROOT / "manage.py")]
            commands = {
                "read": [python, "-c", READ, *outs[:2]],
                "copies": [python, "-c", DIFF, *outs, known, "copies"],
                "digests": [python, "-c", DIFF, *outs, known, "csv"],
                "all": [python, "-c", DIFF, *outs, "{}", "csv"],
                "app": [*manage, "diff_runs", base_run, head_run],
            }
            runs: dict[str, list] = {name: [] for name in commands}
            for _ in range(args.repeat):
                for name, argv in commands.items():
                    if name == "app":
                        subprocess.run([python, "-c", APP_SETUP, "forget"], check=True, cwd=ROOT)
                    runs[name].append(measure(argv))
            read, *diffs = (Summary(runs[name]) for name in commands)
            print(
                f"{times:>4}x {2364 * times:>8} | {read.times()} {read.peak:5.0f} | "
                + " | ".join(diff.against(read) for diff in diffs),
                flush=True,
            )


if __name__ == "__main__":
    main()
