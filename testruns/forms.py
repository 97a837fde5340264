"""Forms of the run pages: the test-run options and the history filters."""

import uuid
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from configurations.models import Configuration, ConfigurationVersion
from testruns.inputs import CSV_SUFFIXES, EXCEL_SUFFIXES, GivenInput, bundled_input, upload_input
from testruns.models import Status
from testruns.options import DEFAULT_ROWS, MAX_ROWS, MIN_ROWS, RunOptions
from testruns.pagination import Cursor

# RunOptions field → form field, to put start_run's InvalidOptions on the right input.
OPTION_FIELDS = {
    "entities": "entities",
    "max_rows_per_entity": "max_rows",
    "default_entity": "default_entity",
}


def cannot_run(validation: dict, dependencies: dict[str, list[str]]) -> dict[str, str]:
    """The entities a version's validation record says cannot run, each with why: those with an error, or
    whose file is missing (it fails when read), and those that need one of them (skipped at run time).

    An input table given with the run may stand in for a missing file; the form still lets any entity be
    picked, it only marks these.
    """
    blocked = {}
    for issue in validation.get("issues", []):
        entity = issue.get("entity")
        if (
            entity
            and entity not in blocked
            and (issue.get("severity") == "error" or issue.get("code") == "file_missing")
        ):
            blocked[entity] = issue.get("message", "")
    changed = True
    while changed:  # the entities that need a blocked one, at any depth
        changed = False
        for name, needs in dependencies.items():
            if name not in blocked and (need := next((n for n in needs if n in blocked), None)):
                blocked[name], changed = f"needs {need}, which cannot run", True
    return blocked


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
    input_file = forms.FileField(
        required=False,
        label="Input table",
        help_text="A CSV or Excel file read as the default entity, like run_test --input in a shell.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(CSV_SUFFIXES + EXCEL_SUFFIXES)}),
    )
    bundled_input = forms.ChoiceField(required=False, label="or one of the version's files")
    default_entity = forms.CharField(
        required=False,
        max_length=100,
        label="Default entity",
        help_text="The entity the input table stands for.",
    )

    def __init__(
        self,
        *args,
        dependencies: dict[str, list[str]],
        bundled_tables: list[str] = (),
        declared_default: str | None = None,
        refused=(),
        blocked: dict[str, str] | None = None,
        **kwargs,
    ):
        """``dependencies`` maps each entity name to the entities it needs, in declaration order;
        ``bundled_tables`` are the version's CSV and Excel files, ``declared_default`` its
        metadata.default_entity; ``refused`` the uploads dropped for their size (``shiftbench.uploads``);
        ``blocked`` the entities validation says cannot run, with why (``cannot_run``).
        """
        super().__init__(*args, **kwargs)
        self.blocked = blocked or {}
        self.fields["entities"].choices = [
            (name, f"{name} (needs {', '.join(deps)})" if deps else name)
            for name, deps in dependencies.items()
        ]
        self.fields["bundled_input"].choices = [("", "none")] + [(path, path) for path in bundled_tables]
        if declared_default:
            self.fields["default_entity"].help_text += f" Leave empty for {declared_default} (metadata)."
        else:
            self.fields["default_entity"].help_text += " Needed with an input table: this version names none."
        self.refused = list(refused)

    def clean(self):
        data = super().clean()
        for upload in self.refused:
            self.add_error("input_file" if upload.field == "input_file" else None, upload.message)
        if not data.get("all_rows") and data.get("max_rows") is None and "max_rows" not in self.errors:
            self.add_error("max_rows", "Give a number of rows, or tick “All rows”.")
        if data.get("input_file") and data.get("bundled_input"):
            self.add_error("bundled_input", "Upload a file or pick one of the version's files, not both.")
        return data

    def given_input(self, version, user) -> GivenInput | None:
        """The input table chosen, checked and stored (``testruns.inputs``); None without one.

        Raises InvalidInput (see ``add_option_error``) for a file that does not read as a table.
        """
        data = self.cleaned_data
        if data["input_file"]:
            upload = data["input_file"]
            return upload_input(version, upload, upload.name, data["default_entity"], user)
        if data["bundled_input"]:
            return bundled_input(version, data["bundled_input"], data["default_entity"], user)
        return None

    def entity_options(self) -> list[tuple]:
        """Each entity's checkbox (a BoundWidget) with why it cannot run ("" when it can)."""
        return [(option, self.blocked.get(option.data["value"], "")) for option in self["entities"]]

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
        """Show start_run's InvalidOptions (and an InvalidInput) on the input it is about."""
        if exc.field == "input":
            field = "bundled_input" if self.cleaned_data.get("bundled_input") else "input_file"
        else:
            field = OPTION_FIELDS.get(exc.field)
        self.add_error(field, exc.message)


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
