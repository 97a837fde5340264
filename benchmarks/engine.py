"""Benchmark the engine on the real Arbodat configuration with the survey repeated 1x, 10x, 50x.

Plain script, no pass/fail: for each size it times, as whole subprocesses side by side, (a) a
process that only reads the same survey CSV with pandas using the configuration's read options,
(b) "engine only": a full run of reduced-arbodat.yml through `shapeshift.run` (tables finalised
and released, nothing written) and (c) "CLI with writing": `python -m shapeshift run ... --out DIR`,
which also writes every table as CSV. It prints wall times, each process's peak RSS (from
os.wait4) and the ratio of (b) and (c) to (a). With --repeat N each process runs N times,
interleaved, and min and median are shown (ratios of the mins and of the medians).

A second table runs (b) and (c) on the same data in format 2: the configuration rewritten by
`python -m shapeshift migrate` (55 tables of the same rows), beside format 1, with format 2's time
and peak RSS as ratios of format 1's.

    .venv/bin/python benchmarks/engine.py [--sizes 1,10,50] [--repeat 1]

Targets at 50x: engine <= 2.5x, CLI with writing <= 3x the read-only time, peak RSS under ~420 MiB;
format 2 within 1.1x of format 1.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import statistics
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
    subprocess.run(
        [
            sys.executable,
            "-m",
            "shapeshift",
            "migrate",
            str(folder / "reduced-arbodat.yml"),
            "--out",
            str(folder / V2),
        ],
        check=True,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return folder


V2 = "arbodat-v2.yml"  # the configuration as `python -m shapeshift migrate` writes it


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


class Summary:
    """Repeated runs of one command: min and median seconds, the highest peak RSS, the worst exit status."""

    def __init__(self, runs: list[tuple[float, float, int]]) -> None:
        seconds = sorted(run[0] for run in runs)
        self.min, self.median = seconds[0], statistics.median(seconds)
        self.peak = max(run[1] for run in runs)
        self.status = max(run[2] for run in runs)

    def times(self) -> str:
        return f"{self.min:6.2f} {self.median:6.2f}"

    def against(self, read: Summary) -> str:
        """Seconds, then the ratios to the read-only process (of the mins, of the medians), then MiB."""
        ratios = f"{self.min / read.min:4.2f}x {self.median / read.median:4.2f}x"
        return f"{self.times()} {ratios} {self.peak:5.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; min and median shown")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    python = sys.executable
    print(f"seconds and ratios to read-only as min and median of {args.repeat} run(s); peak RSS in MiB")
    part = f"{'s min':>6} {'s med':>6} {'ratio':>5} {'ratio':>5} {'peak':>5}"
    print(f"{'':21} | {'read only':<19} | {'engine only':<31} | {'CLI with writing':<31}")
    header = f"{'size':>5} {'rows':>8} {'MiB':>6} | {'s min':>6} {'s med':>6} {'peak':>5} | {part} | {part}"
    print(header)
    print("-" * len(header))
    versions: list[tuple] = []
    with tempfile.TemporaryDirectory() as temp:
        base = pathlib.Path(temp)
        for times in sizes:
            folder = make_folder(base, times)
            survey = folder / "survey.csv"
            config = str(folder / "reduced-arbodat.yml")
            v2 = str(folder / V2)
            commands = {
                "read-only": [python, "-c", READ_ONLY, str(survey)],
                "engine": [python, "-c", ENGINE, config],
                "CLI": [python, "-m", "shapeshift", "run", config, "--out", str(folder / "out")],
                "engine v2": [python, "-c", ENGINE, v2],
                "CLI v2": [python, "-m", "shapeshift", "run", v2, "--out", str(folder / "out")],
            }
            runs: dict[str, list] = {name: [] for name in commands}
            for _ in range(args.repeat):  # interleaved, so a busy moment slows all alike
                for name, argv in commands.items():
                    runs[name].append(measure(argv))
                    shutil.rmtree(folder / "out", ignore_errors=True)
            read, engine, cli, engine_v2, cli_v2 = (Summary(runs[name]) for name in commands)
            failed = "".join(
                f"  ({name} exit status {summary.status})"
                for name, summary in (
                    ("engine", engine),
                    ("CLI", cli),
                    ("engine v2", engine_v2),
                    ("CLI v2", cli_v2),
                )
                if summary.status
            )
            size = survey.stat().st_size / 2**20
            print(
                f"{times:>4}x {2364 * times:>8} {size:>6.1f} | {read.times()} {read.peak:5.0f} | "
                f"{engine.against(read)} | {cli.against(read)}{failed}",
                flush=True,
            )
            versions.append((times, engine, engine_v2, cli, cli_v2))
            shutil.rmtree(folder)

    print()
    print("format 2 (migrated configuration) beside format 1 on the same data: seconds, v2/v1 ratios")
    part = f"{'v1 min':>6} {'v2 min':>6} {'ratio':>5} {'ratio':>5} {'peak':>5}"
    print(f"{'size':>5} | {'engine only':<31} | {'CLI with writing':<31}")
    print(f"{'':>5} | {part} | {part}")
    for times, engine, engine_v2, cli, cli_v2 in versions:
        print(f"{times:>4}x | {_versus(engine, engine_v2)} | {_versus(cli, cli_v2)}")


def _versus(v1: Summary, v2: Summary) -> str:
    return (
        f"{v1.min:6.2f} {v2.min:6.2f} {v2.min / v1.min:4.2f}x {v2.median / v1.median:4.2f}x "
        f"{v2.peak / v1.peak:4.2f}x"
    )


if __name__ == "__main__":
    main()
