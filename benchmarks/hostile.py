"""Benchmark hostile input: refusing YAML bombs, and running (and cancelling) a 100,000-column CSV.

Plain script, no pass/fail. Each case runs as a whole subprocess (under an address-space limit, so code
without the bounds fails with MemoryError instead of swapping the machine); it prints the wall time and
peak RSS of the process (os.wait4), the time spent inside the call being measured, and the outcome:

- importing the engine only (the floor every other process pays);
- `shapeshift.load` of a 9x9 "billion laughs", a 500-level document and a 400-step @value: chain;
- a full run of an entity that keeps every column of a CSV with `--columns` columns and `--rows` rows,
  with the time of each phase;
- the same run cancelled `--cancel-after` seconds into each of its long phases, and how long the
  cancel then took to land (a phase spent inside one pandas call, like reading the CSV, lands at its end).

    .venv/bin/python benchmarks/hostile.py [--columns 100000] [--rows 10] [--memory-limit 4096]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

BILLION_LAUGHS = (
    "# nine levels of nine aliases: 435,848,050 nodes once expanded\n"
    "entities: {}\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
)
DEEP = "entities:\n  x:\n    columns: " + "[" * 500 + "]" * 500 + "\n"
CHAIN = "entities: {}\n" + "".join(f"k{i}: '@value: k{i + 1}'\n" for i in range(400)) + "k400: end\n"

IMPORT_ONLY = """
import json, time
started = time.perf_counter()
import shapeshift
print(json.dumps({"seconds": time.perf_counter() - started, "outcome": "imported"}))
"""

LOAD = """
import json, sys, time
import shapeshift
started = time.perf_counter()
try:
    shapeshift.load(sys.argv[1])
    outcome = "loaded"
except BaseException as exc:
    outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({"seconds": time.perf_counter() - started, "outcome": outcome[:110]}))
"""

RUN = """
import json, sys, time
import shapeshift

class Phases(shapeshift.Observer):
    # Times the phases; asks to stop cancel_after seconds after cancel_phase begins (a user's click).

    def __init__(self, cancel_phase=None, cancel_after=None):
        self.times, self.current, self.cancel_phase, self.cancel_after = {}, None, cancel_phase, cancel_after
        self.requested = None  # when the cancel was asked for, not when the engine first looked

    def entity_phase(self, name, phase, rows=None):
        now = time.perf_counter()
        if self.current:
            self.times[self.current[0]] = self.times.get(self.current[0], 0) + now - self.current[1]
        self.current = (phase, now)
        if phase == self.cancel_phase and self.requested is None:
            self.requested = now + self.cancel_after

    def should_stop(self):
        return self.requested is not None and time.perf_counter() >= self.requested

cancel_phase = sys.argv[2] or None
observer = Phases(cancel_phase, float(sys.argv[3]))
project = shapeshift.load(sys.argv[1])
started = time.perf_counter()
result = shapeshift.run(project, observer=observer, keep_tables=False)
ended = time.perf_counter()
observer.entity_phase("wide", None)  # closes the last phase
observer.times.pop(None, None)
outcome = result.outcomes[0]
print(json.dumps({
    "seconds": ended - started,
    "outcome": f"{outcome.status}, {len(outcome.columns):,} columns",
    "phases": {phase: round(seconds, 2) for phase, seconds in observer.times.items()},
    "cancel_landed": None if observer.requested is None else ended - observer.requested,
}))
"""


def measure(argv: list[str], memory_limit_mib: int) -> dict:
    """Run argv; return the JSON line it prints plus its wall seconds and peak RSS in MiB (os.wait4)."""
    limit = memory_limit_mib * 2**20

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=err, preexec_fn=cap, text=True)
        _, _, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        lines = [line for line in out.read().splitlines() if line.startswith("{")]
        last = (err.read().strip().splitlines() or ["no output"])[-1]
    figures = json.loads(lines[-1]) if lines else {"outcome": f"crashed: {last[:100]}"}
    return {"wall": elapsed, "peak": usage.ru_maxrss / 1024, **figures}


def wide_folder(base: pathlib.Path, columns: int, rows: int) -> pathlib.Path:
    names = [f"c{i}" for i in range(columns)]
    with open(base / "wide.csv", "w", encoding="utf-8") as handle:
        handle.write(",".join(names) + "\n")
        for row in range(rows):
            handle.write(",".join("" if (i + row) % 5 == 0 else f"v{(i + row) % 7}" for i in range(columns)))
            handle.write("\n")
    (base / "wide.yml").write_text(
        "entities:\n  wide:\n    type: csv\n    surrogate_id: wide_id\n"
        "    options: {filename: wide.csv, dtype: str}\n    drop_empty_rows: true\n"
        f"    keys: [c0]\n    columns: [{', '.join(names)}]\n",
        encoding="utf-8",
    )
    return base / "wide.yml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--memory-limit", type=int, default=4096, help="MiB of address space per process")
    parser.add_argument("--cancel-after", type=float, default=1.0, help="seconds into the longest phase")
    args = parser.parse_args()
    python = sys.executable
    header = f"{'case':<34} {'bytes':>9} | {'wall s':>7} {'in call s':>9} {'peak MiB':>8} | outcome"
    print(header)
    print("-" * 110)
    with tempfile.TemporaryDirectory() as temp:
        base = pathlib.Path(temp)
        cases = [("import shapeshift only", None, [python, "-c", IMPORT_ONLY])]
        for name, text in (("billion laughs (9x9)", BILLION_LAUGHS), ("500-level nesting", DEEP)):
            path = base / f"{name.split()[0]}.yml"
            path.write_text(text, encoding="utf-8")
            cases.append((f"load: {name}", path.stat().st_size, [python, "-c", LOAD, str(path)]))
        path = base / "chain.yml"
        path.write_text(CHAIN, encoding="utf-8")
        cases.append(("load: 400-step @value: chain", path.stat().st_size, [python, "-c", LOAD, str(path)]))
        for label, size, argv in cases:
            figures = measure(argv, args.memory_limit)
            print(
                f"{label:<34} {size or '':>9} | {figures['wall']:>7.2f} {figures.get('seconds', 0):>9.3f} "
                f"{figures['peak']:>8.0f} | {figures['outcome']}",
                flush=True,
            )
        config = wide_folder(base, args.columns, args.rows)
        size = (base / "wide.csv").stat().st_size
        run = measure([python, "-c", RUN, str(config), "", "0"], args.memory_limit)
        print(
            f"{'run: ' + f'{args.columns:,} columns x {args.rows} rows':<34} {size:>9} | {run['wall']:>7.2f} "
            f"{run.get('seconds', 0):>9.2f} {run['peak']:>8.0f} | {run['outcome']}",
            flush=True,
        )
        phases = run.get("phases") or {}
        print(f"{'':<34} {'':>9} |   phases (s): {phases}")
        for phase in (phase for phase, seconds in phases.items() if seconds >= 2 * args.cancel_after):
            argv = [python, "-c", RUN, str(config), phase, str(args.cancel_after)]
            cancel = measure(argv, args.memory_limit)
            landed = cancel.get("cancel_landed")
            print(
                f"{'run, cancelled in ' + phase:<34} {size:>9} | {cancel['wall']:>7.2f} "
                f"{cancel.get('seconds', 0):>9.2f} {cancel['peak']:>8.0f} | {cancel['outcome']}; "
                f"cancel asked {args.cancel_after:g} s into {phase}, landed "
                + ("never" if landed is None else f"{landed:.2f} s later"),
                flush=True,
            )


if __name__ == "__main__":
    main()
