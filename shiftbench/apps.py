from django.apps import AppConfig
from django.core import checks


class ShiftBenchConfig(AppConfig):
    """The project as an app: its SHIFTBENCH_* settings checks run with Django's, and it names the admin."""

    name = "shiftbench"
    verbose_name = "ShiftBench"

    def ready(self):
        from django.contrib import admin

        from shiftbench.checks import TAG, check_settings

        checks.register(check_settings, TAG)
        admin.site.site_header = admin.site.site_title = "ShiftBench admin"
        admin.site.index_title = "Administration"
