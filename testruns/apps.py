from django.apps import AppConfig


class TestrunsConfig(AppConfig):
    name = "testruns"
    verbose_name = "Test runs"

    def ready(self):
        from testruns import signals  # noqa: F401  (connects the worker-start reaper)
