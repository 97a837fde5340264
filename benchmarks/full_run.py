"""A full test run (all rows, every entity) through ShiftBench beside the engine's own CLI on the same data.

For the Arbodat survey repeated k times (made in a temporary folder), times as whole processes:
`manage.py run_test … --sync --max-rows all` (engine + entity results, previews and stored CSVs in a
throwaway SQLite) and `python -m shapeshift run … --out DIR` (engine + CSV files), interleaved and repeated
so that a busy machine slows both alike. Prints min and median seconds, the highest peak RSS and the ratios
(of the mins, of the medians); never passes or fails.

    .venv/bin/python benchmarks/full_run.py [--sizes 1,10,50] [--repeat 3] [--target-model FILE]

With --target-model the same configuration is also imported with that model chosen, and its test run
(the entities, then the checks of their data) is measured beside the plain one: the last line of each size
gives its time and peak memory, and the ratios to the plain test run's.
"""

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from engine import ROOT, Summary, make_folder, measure  # noqa: E402  (the same scaled copies and measurement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target-model", help="also measure runs checked against this target model")
    args = parser.parse_args()
    python, manage = sys.executable, str(ROOT / "manage.py")
    header = (
        f"{'size':>5} | {'test run: min':>13} {'median':>6} {'MiB':>5} | {'CLI: min':>8} {'median':>6} "
        f"{'MiB':>5} | {'time: min':>9} {'median':>6} {'memory':>6}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as temp:
        base = pathlib.Path(temp)
        os.environ.update(SHIFTBENCH_VAR_DIR=str(base / "var"), SHIFTBENCH_LOG_LEVEL="WARNING")
        subprocess.run([python, manage, "migrate", "-v0"], check=True)
        for times in (int(s) for s in args.sizes.split(",")):
            folder = make_folder(base, times)
            config = folder / "reduced-arbodat.yml"
            name = f"arbodat-x{times}"
            subprocess.run(
                [python, manage, "import_configuration", str(config), "--name", name],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            if args.target_model:
                model = ["--name", f"{name}-model", "--target-model", args.target_model]
                subprocess.run(
                    [python, manage, "import_configuration", str(config), *model],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            runs, clis, checked = [], [], []
            for _ in range(args.repeat):
                runs.append(measure([python, manage, "run_test", name, "--sync", "--max-rows", "all"]))
                clis.append(
                    measure([python, "-m", "shapeshift", "run", str(config), "--out", str(folder / "out")])
                )
                if args.target_model:  # checks failing is expected: the run's exit status is not looked at
                    command = [python, manage, "run_test", f"{name}-model", "--sync", "--max-rows", "all"]
                    checked.append(measure(command))
            run, cli = Summary(runs), Summary(clis)
            print(
                f"{times:>4}x | {run.min:>13.2f} {run.median:>6.2f} {run.peak:>5.0f} | {cli.min:>8.2f} "
                f"{cli.median:>6.2f} {cli.peak:>5.0f} | {run.min / cli.min:>8.2f}x "
                f"{run.median / cli.median:>5.2f}x {run.peak / cli.peak:>5.2f}x",
                flush=True,
            )
            if checked:
                model = Summary(checked)
                print(
                    f"{'':>5} | with target model: {model.min:.2f} s min, {model.median:.2f} s median, "
                    f"{model.peak:.0f} MiB: {model.min / run.min:.2f}x {model.median / run.median:.2f}x the "
                    f"test run's time, {model.peak / run.peak:.2f}x its memory",
                    flush=True,
                )


if __name__ == "__main__":
    main()
