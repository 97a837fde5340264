"""A full test run (all rows, every entity) through ShiftBench beside the engine's own CLI on the same data.

For the Arbodat survey repeated k times (made in a temporary folder), times as whole processes:
`manage.py run_test … --sync --max-rows all` (engine + entity results, previews and stored CSVs in a
throwaway SQLite) and `python -m shapeshift run … --out DIR` (engine + CSV files). Prints seconds, peak RSS
and their ratio; never passes or fails. Usage: .venv/bin/python benchmarks/full_run.py [--sizes 1,50]
"""

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from engine import ROOT, make_folder, measure  # noqa: E402  (the same scaled copies and measurement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50")
    args = parser.parse_args()
    python, manage = sys.executable, str(ROOT / "manage.py")
    header = (
        f"{'size':>5} | {'test run s':>10} {'peak MiB':>9} | {'CLI s':>6} {'peak MiB':>9} | "
        f"{'time':>6} {'memory':>7}"
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
            run = measure([python, manage, "run_test", name, "--sync", "--max-rows", "all"])
            cli = measure([python, "-m", "shapeshift", "run", str(config), "--out", str(folder / "out")])
            print(
                f"{times:>4}x | {run[0]:>10.2f} {run[1]:>9.0f} | {cli[0]:>6.2f} {cli[1]:>9.0f} | "
                f"{run[0] / cli[0]:>5.2f}x {run[1] / cli[1]:>6.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
