"""Pages of test runs, one module per group: runs (dashboard, history, run, entity)."""

from testruns.views.compare import run_compare
from testruns.views.history import run_list
from testruns.views.runs import dashboard, entity_csv, entity_detail, run_detail, run_status

__all__ = ["run_compare", "dashboard", "entity_csv", "entity_detail", "run_detail", "run_list", "run_status"]
