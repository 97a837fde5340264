"""Benchmark the engine on the real Arbodat configuration with the survey repeated 1x, 10x, 50x.

Plain script, no pass/fail: for each size it times, as whole subprocesses, (a) a full run of
reduced-arbodat.yml through `shapeshift.run` (tables finalised and released, nothing written)
and (b) a process that only reads the same survey CSV with pandas using the configuration's read
options. It prints both wall times, their ratio and each process's peak RSS (from os.wait4).

    .venv/bin/python benchmarks/engine.py [--sizes 1,10,50] [--repeat 1] [--write]

--write makes (a) use the CLI and write every table as CSV, which adds the output cost.
Targets: engine <= 3x the read-only time at 50x, peak RSS under ~420 MiB.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
ARBODAT = ROOT.parent / "shared" / "data" / "arbodat"  # shared/ sits beside the repository
FILES = ["reduced-arbodat.yml", "mappings.yml", "translations.tsv"]

ENGINE = """
import sys, shapeshift
project = shapeshift.load(sys.argv[1])
result = shapeshift.run(project, keep_tables=False)
failed = [o.name for o in result.outcomes if o.status != "success"]
sys.exit(1 if failed else 0)
"""

READ_ONLY = """
import sys, pandas as pd
table = pd.read_csv(sys.argv[1], sep=";", encoding="utf-8", quotechar='"', dtype="str", keep_default_na=False)
print(len(table))
"""


def make_folder(base: pathlib.Path, times: int) -> pathlib.Path:
    """Copy the configuration and its includes; write the survey with its data rows repeated."""
    folder = base / f"x{times}"
    folder.mkdir()
    for name in FILES:
        shutil.copy(ARBODAT / name, folder / name)
    raw = (ARBODAT / "survey.csv").read_bytes()
    header, _, body = raw.partition(b"\n")
    if not body.endswith(b"\n"):
        body += b"\n"
    with open(folder / "survey.csv", "wb") as handle:
        handle.write(header + b"\n")
        for _ in range(times):
            handle.write(body)
    return folder


def measure(argv: list[str]) -> tuple[float, float, int]:
    """Run argv; return (seconds, peak RSS in MiB, exit status)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        print(process.stderr.read().decode(errors="replace")[-2000:], file=sys.stderr)
    return elapsed, usage.ru_maxrss / 1024, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is shown")
    parser.add_argument("--write", action="store_true", help="write CSV output through the CLI")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    python = sys.executable
    header = (
        f"{'size':>5} {'rows':>8} {'MiB':>6} | {'engine s':>9} {'peak MiB':>9} | {'read s':>7} "
        f"{'peak MiB':>9} | {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as temp:
        base = pathlib.Path(temp)
        for times in sizes:
            folder = make_folder(base, times)
            survey = folder / "survey.csv"
            if args.write:
                engine_argv = [
                    python,
                    "-m",
                    "shapeshift",
                    "run",
                    str(folder / "reduced-arbodat.yml"),
                    "--out",
                    str(folder / "out"),
                ]
            else:
                engine_argv = [python, "-c", ENGINE, str(folder / "reduced-arbodat.yml")]
            engine = min((measure(engine_argv) for _ in range(args.repeat)), key=lambda m: m[0])
            read = min(
                (measure([python, "-c", READ_ONLY, str(survey)]) for _ in range(args.repeat)),
                key=lambda m: m[0],
            )
            rows = 2364 * times
            size = survey.stat().st_size / 2**20
            flag = "" if engine[2] == 0 else f"  (engine exit status {engine[2]})"
            print(
                f"{times:>4}x {rows:>8} {size:>6.1f} | {engine[0]:>9.2f} {engine[1]:>9.0f} | {read[0]:>7.2f} "
                f"{read[1]:>9.0f} | {engine[0] / read[0]:>5.2f}x{flag}",
                flush=True,
            )
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
