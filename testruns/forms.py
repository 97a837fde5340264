"""Forms of the run pages: the test-run options and the history filters."""

import uuid
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from configurations.models import Configuration, ConfigurationVersion
from testruns.models import Status
from testruns.options import DEFAULT_ROWS, MAX_ROWS, MIN_ROWS, RunOptions
from testruns.pagination import Cursor

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
    """The history's filters and position, all read from the query string.

    The configuration and user choices are read once (two small queries, whatever is filtered), and the
    search is matched against them here, so the run query filters on ids only and an index serves it.
    """

    configuration = forms.ChoiceField(required=False)
    version = forms.IntegerField(
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"placeholder": "number", "class": "narrow-number"}),
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    user = forms.ChoiceField(required=False)
    from_date = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    to_date = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.SearchInput(attrs={"placeholder": "run id or configuration"}),
    )
    before = forms.CharField(required=False, widget=forms.HiddenInput)
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configurations = list(Configuration.objects.order_by("name").values_list("pk", "name", "title"))
        self.users = list(get_user_model().objects.order_by("username").values_list("pk", "username"))
        self.fields["configuration"].choices = [("", "All configurations")] + [
            (name, name) for _, name, _ in self.configurations
        ]
        self.fields["user"].choices = [("", "Anyone")] + [(name, name) for _, name in self.users]

    def clean_before(self):
        return self._cursor("before")

    def clean_after(self):
        return self._cursor("after")

    def _cursor(self, field):
        text = self.cleaned_data[field]
        if not text:
            return None
        try:
            return Cursor.parse(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        if data.get("version") and not data.get("configuration") and "configuration" not in self.errors:
            self.add_error("version", "A version number needs a configuration: choose one too.")
        if data.get("from_date") and data.get("to_date") and data["from_date"] > data["to_date"]:
            self.add_error("to_date", f"{data['to_date']} is before the “from” date {data['from_date']}.")
        if data.get("before") and data.get("after"):
            self.add_error(None, "A page is either before or after a run, not both.")
        return data

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields if name not in ("before", "after"))

    def cursor(self) -> dict:
        """``before``/``after`` for ``TestRunQuerySet.keyset_page``."""
        return {"before": self.cleaned_data["before"], "after": self.cleaned_data["after"]}

    def filter(self, runs):
        """``runs`` narrowed to the filters (no query of its own)."""
        data = self.cleaned_data
        if data["configuration"]:
            configuration_id = self._configuration_id(data["configuration"])
            runs = runs.filter(configuration_id=configuration_id)
            if data["version"]:
                runs = runs.filter(
                    version_id=ConfigurationVersion.objects.filter(
                        configuration_id=configuration_id, number=data["version"]
                    )
                    .order_by()  # not the model's ordering: that joins the configuration for nothing
                    .values("pk")[:1]
                )
        if data["status"]:
            runs = runs.filter(status=data["status"])
        if data["user"]:
            runs = runs.filter(requested_by_id=next(pk for pk, name in self.users if name == data["user"]))
        if data["from_date"]:
            runs = runs.filter(created_at__gte=_start_of(data["from_date"]))
        if data["to_date"]:
            runs = runs.filter(created_at__lt=_start_of(data["to_date"] + timedelta(days=1)))
        if data["q"]:
            runs = runs.filter(self._search(data["q"]))
        return runs

    def _configuration_id(self, name: str) -> int:
        return next(pk for pk, candidate, _ in self.configurations if candidate == name)

    def _search(self, text: str) -> Q:
        """A run id prefix, or part of a configuration's name or title, or a user name."""
        needle = text.lower()
        matches = Q(
            configuration_id__in=[
                pk
                for pk, name, title in self.configurations
                if needle in name.lower() or needle in title.lower()
            ]
        )
        matches |= Q(requested_by_id__in=[pk for pk, name in self.users if needle in name.lower()])
        hex_prefix = needle.replace("-", "")
        if 0 < len(hex_prefix) <= 32 and all(c in "0123456789abcdef" for c in hex_prefix):
            # A prefix is a range of ids: the primary key's index serves it on every database.
            low, high = hex_prefix.ljust(32, "0"), hex_prefix.ljust(32, "f")
            matches |= Q(pk__gte=uuid.UUID(hex=low), pk__lte=uuid.UUID(hex=high))
        return matches


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
