"""Pages of test runs, one module per group: runs (dashboard, run, entity), history, the test-run form
(start), compare, the diff of two runs and a run's baseline, and exports."""

from testruns.views.compare import run_compare
from testruns.views.diff import clear_baseline, compare_diff, make_baseline, run_baseline
from testruns.views.explorer import entity_view_csv, entity_view_xlsx
from testruns.views.exports import export_json, export_xlsx, export_zip
from testruns.views.history import run_list
from testruns.views.runs import (
    dashboard,
    entity_csv,
    entity_detail,
    run_cancel,
    run_delete,
    run_detail,
    run_pin,
    run_rerun,
    run_status,
)
from testruns.views.start import run_start

__all__ = [
    "run_compare",
    "dashboard",
    "entity_csv",
    "entity_detail",
    "run_detail",
    "run_list",
    "run_status",
    "run_cancel",
    "run_rerun",
    "run_delete",
    "run_pin",
    "run_start",
]
__all__ += ["export_json", "export_xlsx", "export_zip"]
__all__ += ["entity_view_csv", "entity_view_xlsx"]
__all__ += ["compare_diff", "run_baseline", "make_baseline", "clear_baseline"]
