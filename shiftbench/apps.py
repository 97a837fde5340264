from django.apps import AppConfig
from django.core import checks


class ShiftBenchConfig(AppConfig):
    """The project as an app, so its system checks of the SHIFTBENCH_* settings run with Django's."""

    name = "shiftbench"
    verbose_name = "ShiftBench"

    def ready(self):
        from shiftbench.checks import TAG, check_settings

        checks.register(check_settings, TAG)
