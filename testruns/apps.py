import csv

from django.apps import AppConfig


class TestrunsConfig(AppConfig):
    name = "testruns"
    verbose_name = "Test runs"

    def ready(self):
        from testruns import signals  # noqa: F401  (connects the worker-start reaper)

        # Stored tables are written by pandas, whose cells have no size limit; csv's reader refuses fields
        # over 131,072 characters by default, which broke the exports of a run with one long text. Raised
        # here, once per process, for every reader of stored tables. 2**31 - 1: the largest C long on
        # every platform (sys.maxsize overflows it on Windows).
        csv.field_size_limit(2**31 - 1)
