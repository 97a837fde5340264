"""Forms of the run pages: the test-run options and the history filters."""

from django import forms

from configurations.models import Configuration
from testruns.models import Status
from testruns.options import DEFAULT_ROWS, MAX_ROWS, MIN_ROWS, RunOptions

# RunOptions field → form field, to put start_run's InvalidOptions on the right input.
OPTION_FIELDS = {"entities": "entities", "max_rows_per_entity": "max_rows"}


class TestRunForm(forms.Form):
    entities = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to run every entity. The entities they depend on are always included.",
    )
    max_rows = forms.IntegerField(
        label="Max rows per entity",
        required=False,
        min_value=MIN_ROWS,
        max_value=MAX_ROWS,
        initial=DEFAULT_ROWS,
        help_text=f"Each input table is cut to its first N rows ({MIN_ROWS}–{MAX_ROWS}).",
    )
    all_rows = forms.BooleanField(required=False, label="All rows (a full run)")
    stop_on_error = forms.BooleanField(required=False, help_text="Stop at the first entity that fails.")
    validate_foreign_keys = forms.BooleanField(required=False, initial=True)
    validate_constraints = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, dependencies: dict[str, list[str]], **kwargs):
        """``dependencies`` maps each entity name to the entities it needs, in declaration order."""
        super().__init__(*args, **kwargs)
        self.fields["entities"].choices = [
            (name, f"{name} (needs {', '.join(deps)})" if deps else name)
            for name, deps in dependencies.items()
        ]

    def clean(self):
        data = super().clean()
        if not data.get("all_rows") and data.get("max_rows") is None and "max_rows" not in self.errors:
            self.add_error("max_rows", "Give a number of rows, or tick “All rows”.")
        return data

    def options(self) -> RunOptions:
        data = self.cleaned_data
        return RunOptions(
            entities=data["entities"] or None,
            max_rows_per_entity=None if data["all_rows"] else data["max_rows"],
            stop_on_error=data["stop_on_error"],
            validate_foreign_keys=data["validate_foreign_keys"],
            validate_constraints=data["validate_constraints"],
        )

    def add_option_error(self, exc) -> None:
        """Show start_run's InvalidOptions on the input it is about."""
        self.add_error(OPTION_FIELDS.get(exc.field), exc.message)


class RunFilterForm(forms.Form):
    """The history filters, read from the query string (a bad value is a 400)."""

    configuration = forms.ModelChoiceField(
        queryset=Configuration.objects.all(),
        to_field_name="name",
        required=False,
        empty_label="All configurations",
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)

    def filter(self, runs):
        data = self.cleaned_data
        if data.get("configuration"):
            runs = runs.filter(configuration=data["configuration"])
        if data.get("status"):
            runs = runs.filter(status=data["status"])
        return runs
