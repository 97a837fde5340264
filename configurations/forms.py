"""The import form (a YAML upload plus the files it references), the editor and the version picker."""

import shutil
import tempfile
from pathlib import Path

from django import forms
from django.utils.text import get_valid_filename

import shapeshift
from configurations.importing import ImportFailed, import_configuration
from configurations.loading import referenced_files
from configurations.models import ConfigurationVersion
from configurations.versioning import MAX_YAML_CHARS
from shapeshift.config.format import format_label

FORMAT_CHOICES = [("", "Detect from the file")] + [
    (version, f"Force format {format_label(version)}") for version in shapeshift.FORMAT_VERSIONS
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type=file multiple>`` (the pattern from Django's docs)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ImportForm(forms.Form):
    yaml_file = forms.FileField(
        label="Configuration YAML",
        help_text="The main .yml file.",
        widget=forms.ClearableFileInput(attrs={"accept": ".yml,.yaml"}),
    )
    extra_files = MultipleFileField(
        required=False,
        label="Referenced files",
        help_text="The CSV, TSV, Excel, Parquet and @include'd YAML files (a target model too) it refers to.",
    )
    name = forms.SlugField(
        required=False,
        max_length=100,
        help_text="Defaults to the YAML file's name. An existing name adds a version.",
    )
    message = forms.CharField(required=False, max_length=500, help_text="A note on this version.")
    reuse_files = forms.BooleanField(
        required=False,
        initial=True,
        label="Reuse the files of the current version that this YAML still names",
        help_text="When adding a version: a file the YAML names that you do not upload is taken from the "
        "configuration's current version, if it has one at that path. The result lists what was reused "
        "and what is still missing.",
    )
    target_model = forms.FileField(
        required=False,
        label="Target model",
        help_text="Optional: a target model (YAML) the runs check their data against, e.g. "
        "sead_standard_model.yml. It wins over a format-2 project's own metadata.target_model.",
        widget=forms.ClearableFileInput(attrs={"accept": ".yml,.yaml"}),
    )
    format_version = forms.TypedChoiceField(
        required=False,
        label="Format",
        choices=FORMAT_CHOICES,
        coerce=int,
        empty_value=None,
        help_text="Detected from the file: a root metadata mapping marks a format 2 project. Forcing a "
        "format reads this version in it on every validation, run and comparison.",
    )

    def __init__(self, *args, refused=(), **kwargs):
        """``refused``: uploads dropped for their size, each with a ``field`` (None: the whole request,
        refused unread) and a ``message`` (``shiftbench.uploads``)."""
        super().__init__(*args, **kwargs)
        self.refused = list(refused)
        for upload in self.refused:  # its own error says more than "This field is required"
            for name in self.fields if upload.field is None else [upload.field]:
                if name in self.fields:
                    self.fields[name].required = False

    def clean(self):
        for upload in self.refused:
            self.add_error(upload.field if upload.field in self.fields else None, upload.message)
        return super().clean()

    def clean_yaml_file(self):
        upload = self.cleaned_data["yaml_file"]
        if upload is None:  # refused for its size: ``clean`` says so
            return upload
        if not upload.name.lower().endswith((".yml", ".yaml")):
            raise forms.ValidationError("Upload a .yml or .yaml file.")
        return upload

    def clean_target_model(self):
        return _model_upload(self.cleaned_data["target_model"])

    def write_bundle(self, folder: Path) -> Path:
        """Write the uploads into ``folder`` under their own (sanitised) names; returns the main YAML's path.

        A referenced data file that lives in a sub-folder (``data/survey.csv``) is also copied to that
        place when an upload of the same file name was given, since browsers send names without folders.
        """
        main = _write(folder, self.cleaned_data["yaml_file"])
        uploaded = {_write(folder, f).name for f in self.cleaned_data["extra_files"]}
        try:
            references = referenced_files(main)
        except shapeshift.ConfigError:
            return main  # the import reports the error
        for ref in references.files:
            target = (folder / ref.path).resolve()
            name = Path(ref.path).name
            if not ref.exists and name in uploaded and target.is_relative_to(folder.resolve()):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / name, target)
        return main

    def import_upload(self, user) -> tuple[ConfigurationVersion, bool]:
        """Import the valid form's uploads as ``import_configuration`` does (the version and whether it is
        new), from a temporary folder. ImportFailed's message names the YAML by its uploaded name: the
        temporary folder means nothing to the user."""
        with tempfile.TemporaryDirectory(prefix="shiftbench-import-") as folder:
            main = self.write_bundle(Path(folder))
            try:
                return import_configuration(
                    main,
                    self.cleaned_data["name"] or None,
                    user,
                    self.cleaned_data["message"],
                    format_version=self.cleaned_data["format_version"],
                    target_model=self.cleaned_data.get("target_model"),
                    reuse_files=self.cleaned_data["reuse_files"],
                )
            except ImportFailed as exc:
                raise ImportFailed(str(exc).replace(str(main), main.name)) from None


def _model_upload(upload) -> tuple[str, bytes] | None:
    """A target-model upload as ``(file name, content)``, checked to be a usable model."""
    from shapeshift.targets import load_target_model_file

    if upload is None:
        return None
    content = upload.read()
    try:
        load_target_model_file(content)
    except shapeshift.ConfigError as exc:
        raise forms.ValidationError(f"{Path(upload.name).name}: {exc}") from None
    return Path(upload.name).name, content


class TargetModelForm(forms.Form):
    """The configuration page's target-model control: upload a model to use, or stop using the chosen one."""

    model_file = forms.FileField(
        required=False,
        label="Target model file",
        widget=forms.ClearableFileInput(attrs={"accept": ".yml,.yaml"}),
    )
    remove = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_model_file(self):
        return _model_upload(self.cleaned_data["model_file"])

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("remove") and cleaned.get("model_file") is None:
            raise forms.ValidationError("Choose a target model file to upload.")
        return cleaned


def _write(folder: Path, upload) -> Path:
    target = folder / get_valid_filename(Path(upload.name).name)
    with open(target, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return target


class EditForm(forms.Form):
    """The editor: the whole YAML, a message for the new version, the version the edit started from, and
    whether to save a YAML that does not load."""

    yaml_text = forms.CharField(
        label="YAML",
        strip=False,
        max_length=MAX_YAML_CHARS,
        widget=forms.Textarea(attrs={"class": "yaml-editor", "spellcheck": "false", "rows": 30}),
    )
    message = forms.CharField(max_length=500, help_text="What this version changes.")
    base = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    # Sent by the "Save anyway" button the page shows once a YAML that does not load was refused.
    save_anyway = forms.BooleanField(required=False)


class VersionPickForm(forms.Form):
    """Two version numbers to diff (GET)."""

    a = forms.IntegerField(min_value=1, label="From")
    b = forms.IntegerField(min_value=1, label="To")
