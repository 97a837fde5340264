"""Configurations, their immutable versions and the files each version bundles."""

import hashlib
import os
import shutil
import stat
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

import shapeshift
from configurations.loading import bundled_variable
from configurations.storage import (
    CHUNK_SIZE,
    Finding,
    HashingWriter,
    StagedFile,
    Verified,
    is_local,
    local_problem,
    opened,
    part_name,
    stored_problem,
)


def blob_path(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


class StoredFileQuerySet(models.QuerySet):
    def store(self, source) -> "StoredFile":
        """The stored file holding exactly the bytes of ``source``: bytes, a local path or a binary stream.

        The bytes are copied in chunks (never all in memory) into a temporary file beside the blobs,
        hashed on the way, then renamed to the blob's name: a blob is whole or absent, never short (a
        full disk or a killed process leaves only the temporary file, removed on error). The rename
        happens even when the blob was there already: it costs nothing more, since the bytes had to be
        read to be hashed, and a blob that was truncated or altered since is replaced by the good bytes.
        Raises OSError when the storage cannot take the file (a full disk…); nothing is stored then.
        """
        with opened(source) as stream, StagedFile("blobs/incoming") as staged:
            shutil.copyfileobj(stream, staged.writer, CHUNK_SIZE)
            written = staged.commit(blob_path(staged.writer.sha256))
        stored, _ = self.get_or_create(
            sha256=written.sha256, defaults={"size": written.size, "blob": written.name}
        )
        return stored

    def verify(self, repair: bool = False) -> Verified:
        """Check every blob (there, size, sha256: each is read whole); with ``repair``, restore bad ones.

        A bad blob is restored from a good copy where this machine has one (``StoredFile.good_copy``).
        """
        verified = Verified()
        for stored in self.order_by("sha256").iterator():
            verified.checked += 1
            if problem := stored.problem():
                finding = Finding(f"stored file {stored.blob.name}", problem)
                if repair:
                    stored.repair(finding)
                verified.findings.append(finding)
        return verified

    def unreferenced(self, besides=None):
        """Stored files no row points at: no version bundles them, no configuration has them as its target
        model, no row of another app (a run input) names them. ``besides``: a queryset of rows whose
        references do not count (those about to be deleted, for a dry run).

        Found from every foreign key to StoredFile, those without a reverse name included, so this app
        names no model of the apps that use it, and a new use is counted without a change here.
        """
        files = self
        for relation in StoredFile._meta.get_fields(include_hidden=True):
            if relation.auto_created and not relation.concrete:
                column = relation.field.attname
                users = relation.related_model._base_manager.filter(**{f"{column}__isnull": False})
                if besides is not None and besides.model is relation.related_model:
                    users = users.exclude(pk__in=besides.values("pk"))
                files = files.exclude(pk__in=users.values(column))  # no NULL in it: NOT IN would match none
        return files

    def to_prune(self, grace: timedelta, now: datetime | None = None, besides=None):
        """The unreferenced stored files created longer than ``grace`` ago, oldest first.

        The grace protects an import or upload in progress: it stores the file before the row that uses it.
        """
        cutoff = (now or timezone.now()) - grace
        return self.unreferenced(besides).filter(created_at__lt=cutoff).order_by("created_at", "sha256")

    def delete_unreferenced(
        self, grace: timedelta, now: datetime | None = None, batch_size: int = 200
    ) -> int:
        """Delete the stored files among these that ``to_prune`` selects, with their blobs; returns how many.

        Each batch is re-selected in its transaction, locked (PostgreSQL; SQLite writes one at a time), so a
        file referenced since it was listed stays, and so does one whose blob was written within ``grace``
        (``store`` writes the blob again each time the same bytes come in). The blobs go after the commit.
        """
        cutoff = (now or timezone.now()) - grace
        shas = list(self.to_prune(grace, now).values_list("pk", flat=True))
        deleted = 0
        for start in range(0, len(shas), batch_size):
            try:
                with transaction.atomic():
                    batch = StoredFile.objects.to_prune(grace, now).select_for_update()
                    files = [
                        stored
                        for stored in batch.filter(pk__in=shas[start : start + batch_size])
                        if _blob_written_before(stored.blob.name, cutoff)
                    ]
                    StoredFile.objects.filter(pk__in=[stored.pk for stored in files]).delete()
                    for stored in files:
                        transaction.on_commit(partial(_delete_blob, stored.blob.name, cutoff))
            except (IntegrityError, ProtectedError):
                continue  # a row came to use one of them meanwhile: the whole batch stays, for next time
            deleted += len(files)
        return deleted


def _blob_written_before(name: str, cutoff: datetime) -> bool:
    """Whether the blob was last written before ``cutoff`` (a missing one was: nothing to protect)."""
    try:
        return default_storage.get_modified_time(name) < cutoff
    except FileNotFoundError:
        return True
    except NotImplementedError:
        return True  # a storage without times: the row's age alone decides


def _delete_blob(name: str, cutoff: datetime) -> None:
    """Delete the blob of a stored file whose row is gone, unless ``store`` wrote it again meanwhile.

    On a local disk the blob is first renamed aside (a ``.part`` name, so verify_storage would clear a
    leftover) and only then looked at: a ``store`` of the same bytes after that rename writes a new blob,
    and one just before it left a fresh file, which is put back. Content-addressed: whatever file holds that
    name holds the same bytes.
    """
    if not is_local(default_storage):
        if not StoredFile.objects.filter(blob=name).exists() and _blob_written_before(name, cutoff):
            default_storage.delete(name)
        return
    path = default_storage.path(name)
    aside = default_storage.path(f"blobs/incoming/{part_name()}")
    os.makedirs(os.path.dirname(aside), exist_ok=True)
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    if os.stat(aside).st_mtime >= cutoff.timestamp():
        os.replace(aside, path)
    else:
        os.unlink(aside)


class StoredFile(models.Model):
    """A file's bytes, stored once by content (sha256) however many versions bundle it."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    blob = models.FileField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StoredFileQuerySet.as_manager()

    def __str__(self):
        return f"{self.sha256[:12]} ({self.size} bytes)"

    def problem(self, full: bool = True) -> str | None:
        """What is wrong with the blob (missing, wrong size, wrong sha256 if ``full``), or None.

        ``full`` reads the whole blob.
        """
        return stored_problem(default_storage, self.blob.name, self.size, self.sha256 if full else None)

    def good_copy(self) -> tuple[str, object] | None:
        """``(where, source)`` of a copy of the right bytes outside storage, or None. Reads the candidates.

        Candidates: the materialized bundle folders on this machine of the versions using this file,
        and, for a main YAML, the version's own text kept in the database. Each is hashed before use.
        """
        for bundled in self.uses.select_related("version"):
            path = bundled.version.bundle_folder / bundled.path
            if local_problem(path, self.size, self.sha256) is None:
                return str(path), path
            if bundled.kind == "main":
                text = bundled.version.yaml_text.encode("utf-8")
                if hashlib.sha256(text).hexdigest() == self.sha256:
                    return f"the text of {bundled.version}", text
        return None

    def repair(self, finding: Finding) -> None:
        """Restore the blob from ``good_copy``; ``finding`` records what was done, or why nothing was."""
        copy = self.good_copy()
        if copy is None:
            finding.action = "no good copy on this machine: import the file again"
            return
        where, source = copy
        StoredFile.objects.store(source)
        finding.action, finding.fixed = f"restored from {where}", True


class ConfigurationQuerySet(models.QuerySet):
    def for_list(self):
        """What a table of configurations shows: each with its current version and that version's author,
        in the configurations' own query.
        """
        return self.select_related("current_version", "current_version__created_by")


class Configuration(models.Model):
    name = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    current_version = models.ForeignKey(
        "ConfigurationVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The target model its runs check their data against, chosen on import or on its page. A setting of the
    # configuration, not part of a version: changing it makes no new version, and it wins over a format-2
    # version's own metadata.target_model. Each run records the model it used with its checks.
    target_model = models.ForeignKey(
        StoredFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_model_file = models.CharField(max_length=255, blank=True, help_text="The model file's own name.")
    target_model_label = models.CharField(max_length=300, blank=True, help_text="Its model name and version.")

    objects = ConfigurationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("configurations:detail", args=[self.name])

    def choose_target_model(self, content: bytes, filename: str) -> None:
        """Make the model file ``content`` (YAML, format-v2.md 19.1) the one this configuration's runs use.

        Raises shapeshift.ConfigError (a TargetModelError listing each problem) for a file that is not a
        usable model, and OSError when the storage cannot take it; nothing changes then.
        """
        from shapeshift.targets import load_target_model_file

        model = load_target_model_file(content)
        self.target_model = StoredFile.objects.store(content)
        self.target_model_file = filename[:255]
        self.target_model_label = f"{model.name} {model.version}"[:300]
        self.save(update_fields=["target_model", "target_model_file", "target_model_label", "updated_at"])

    def clear_target_model(self) -> None:
        """Use no chosen target model any more (a format-2 version's metadata.target_model still counts)."""
        self.target_model, self.target_model_file, self.target_model_label = None, "", ""
        self.save(update_fields=["target_model", "target_model_file", "target_model_label", "updated_at"])

    def chosen_target_model(self):
        """The chosen target model, parsed (a shapeshift TargetModel), or None. Reads the stored file.

        Raises shapeshift.ConfigError when the stored file no longer parses, OSError when it is unreadable.
        """
        from shapeshift.targets import load_target_model_file

        if self.target_model_id is None:
            return None
        with default_storage.open(blob_path(self.target_model_id), "rb") as handle:
            return load_target_model_file(handle.read())

    def next_version_number(self) -> int:
        """Queries the database."""
        last = self.versions.order_by("-number").values_list("number", flat=True).first()
        return (last or 0) + 1


class ConfigurationVersionQuerySet(models.QuerySet):
    def verify_bundles(self, repair: bool = False) -> Verified:
        """Check every materialized bundle folder on this machine against its version's stored files.

        Each file is read and hashed. With ``repair``, a folder with a bad file is removed (the next use
        builds it again from the blobs), and so is a folder no version has any more.
        """
        verified = Verified()
        root = Path(settings.VAR_DIR) / "bundles"
        folders = (
            sorted(p for p in root.iterdir() if p.is_dir() and "." not in p.name) if root.is_dir() else []
        )
        for folder in folders:
            verified.checked += 1
            version = self.filter(sha256=folder.name).first()
            if version is None:
                finding = Finding(f"bundle folder {folder}", "no version has this bundle any more")
            else:
                problems = [
                    f"{bundled.path}: {problem}"
                    for bundled in version.files.select_related("stored")
                    if (
                        problem := local_problem(
                            folder / bundled.path, bundled.stored.size, bundled.stored.sha256
                        )
                    )
                ]
                if not problems:
                    continue
                finding = Finding(f"bundle folder {folder} ({version})", "; ".join(problems))
            if repair:
                _remove_bundle_folder(folder)
                finding.action, finding.fixed = "removed (built again on next use)", True
            verified.findings.append(finding)
        return verified


def _remove_bundle_folder(folder: Path) -> None:
    """Remove a bundle folder: renamed aside first, so no run finds it half gone."""
    aside = folder.with_name(f"{folder.name}.{os.getpid()}.removing")
    os.rename(folder, aside)
    shutil.rmtree(aside)


class ConfigurationVersion(models.Model):
    """One saved state of a configuration: its YAML and every file it references. Never changes."""

    configuration = models.ForeignKey(Configuration, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    main_file = models.CharField(max_length=255, help_text="The YAML file's name inside the bundle.")
    yaml_text = models.TextField()
    sha256 = models.CharField(max_length=64, help_text="Hash of the YAML and every bundled file.")
    message = models.CharField(max_length=500, blank=True)
    # The result of shapeshift.validate, kept because a version never changes: {"error": …, "issues": […]}.
    validation = models.JSONField(default=dict, blank=True)
    # Which format the version is read in (format-v2.md 1.1), and why. A detected format needs nothing at
    # load (the YAML never changes, so detection always gives it again); a forced one is passed to every
    # load. One value plus a flag rather than "detected" and "forced" columns: pages and the API show the
    # format the version is read in, and a forced version has no other.
    format_version = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=[(1, "1"), (2, "2")],
        help_text="The configuration format it is read in; empty when the YAML could not be parsed.",
    )
    format_forced = models.BooleanField(
        default=False, help_text="The format was chosen at import instead of detected from the file."
    )
    # The ${VAR}s its file paths went through at import, and what each stands for at every load, over the
    # allowed environment: "_env/VAR" (the bundle's copy of its folder) for one a path starts with, its
    # value at import for one inside a path. The version never needs a worker's variables to find its files.
    path_variables = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConfigurationVersionQuerySet.as_manager()

    class Meta:
        ordering = ["configuration", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["configuration", "number"], name="unique_version_number"),
        ]

    def __str__(self):
        return f"{self.configuration.name} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("A configuration version is immutable; save a new version instead.")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("configurations:detail", args=[self.configuration.name]) + f"?version={self.number}"

    @property
    def is_valid(self) -> bool:
        return not self.validation.get("error") and not any(
            issue["severity"] == "error" for issue in self.validation.get("issues", [])
        )

    @property
    def error_count(self) -> int:
        count = sum(1 for issue in self.validation.get("issues", []) if issue["severity"] == "error")
        return count + (1 if self.validation.get("error") else 0)

    @property
    def warning_count(self) -> int:
        return sum(1 for issue in self.validation.get("issues", []) if issue["severity"] == "warning")

    @property
    def files_missing(self) -> list[dict]:
        """Each file its YAML names that its bundle lacks: ``{"path", "kind", "location"}`` (recorded when
        it was made: ``importing.missing_files``). Its entities that read one fail at run time."""
        return self.validation.get("files_missing", [])

    @property
    def files_reused(self) -> dict | None:
        """``{"version": N, "paths": [...]}``: the files an import took from version N, or None."""
        return self.validation.get("files_reused")

    @property
    def format_display(self) -> str:
        """ "format 2, detected", "format 1, forced", or "format unknown" (the YAML did not parse)."""
        if self.format_version is None:
            return "format unknown"
        return f"format {self.format_version}, {'forced' if self.format_forced else 'detected'}"

    @property
    def bundled_variables(self) -> dict[str, str]:
        """The path variables whose files are bundled: ``{VAR: "_env/VAR"}`` (see ``path_variables``)."""
        return {name: value for name, value in self.path_variables.items() if value == bundled_variable(name)}

    @property
    def fixed_variables(self) -> dict[str, str]:
        """The path variables used inside paths, fixed to their value at import."""
        return {name: value for name, value in self.path_variables.items() if value != bundled_variable(name)}

    @property
    def forced_format(self) -> int | None:
        """The format every load of this version must use, or None to detect it from the file."""
        return self.format_version if self.format_forced else None

    @property
    def bundle_folder(self) -> Path:
        """Where this version's files are materialized on this machine (see ``bundle``)."""
        return Path(settings.VAR_DIR) / "bundles" / self.sha256

    def bundle(self) -> "Bundle":
        """The version's files in a local folder, each checked against its stored file.

        The folder is named by the version's hash, so it is built once per machine and shared by every
        run of this version; a half-built folder is never used (built aside, then renamed into place).
        Each file is copied from its blob with its size and sha256 checked on the way. On every later
        use its size is checked again (a stat; the hash would mean reading every file each time), and a
        file found wrong is copied from its blob again. A file whose blob is itself wrong is kept out of
        the folder and listed in ``Bundle.unavailable`` with the reason, so the entity that reads it
        fails saying why. Raises OSError when the folder cannot be written. Queries the database.
        """
        root = self.bundle_folder
        files = list(self.files.select_related("stored"))
        if not root.exists():
            unavailable = self._build_bundle(root, files)
            if unavailable is not None:
                return Bundle(root / self.main_file, unavailable)
        unavailable = {}
        for bundled in files:
            if not _looks_intact(root / bundled.path, bundled.stored.size):
                if problem := self._place(bundled, root):
                    unavailable[bundled.path] = problem
        return Bundle(root / self.main_file, unavailable)

    def materialize(self) -> Path:
        """The main YAML's path in the version's checked local folder (``bundle``). Queries the database."""
        return self.bundle().main

    def _build_bundle(self, root: Path, files: list) -> dict | None:
        """Build the folder aside and rename it into place; its unavailable files, None if another won."""
        staging = root.with_name(f"{root.name}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            unavailable = {
                bundled.path: problem for bundled in files if (problem := self._place(bundled, staging))
            }
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        try:
            staging.rename(root)
        except OSError:  # another process built it first: theirs is checked like any existing folder
            shutil.rmtree(staging, ignore_errors=True)
            return None
        return unavailable

    def _place(self, bundled: "VersionFile", folder: Path) -> str | None:
        """Copy ``bundled``'s blob into ``folder`` if its size and sha256 are right; else why not.

        Written beside the target and renamed over it, so a run reading the folder meanwhile sees the old
        file or the new one. A wrong copy already there is removed: nothing may read it.
        """
        target = folder / bundled.path
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            with open(temp, "wb") as out:
                writer = HashingWriter(out)
                try:
                    with bundled.stored.blob.open("rb") as blob:
                        shutil.copyfileobj(blob, writer, CHUNK_SIZE)
                except FileNotFoundError:
                    pass
                # The main YAML's text is kept in the database too: a lost blob of it can be rewritten.
                if writer.sha256 != bundled.stored.sha256 and bundled.kind == "main":
                    text = self.yaml_text.encode("utf-8")
                    if hashlib.sha256(text).hexdigest() == bundled.stored.sha256:
                        out.seek(0)
                        out.truncate()
                        writer = HashingWriter(out)
                        writer.write(text)
            if writer.size == bundled.stored.size and writer.sha256 == bundled.stored.sha256:
                os.replace(temp, target)
                return None
        finally:
            temp.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        problem = (
            bundled.stored.problem(full=False)
            or f"sha256 {writer.sha256[:12]}…, expected {bundled.stored.sha256[:12]}…"
        )
        return f"bundled file {bundled.path} is corrupt or missing ({problem})"

    @cached_property
    def project(self):
        """The loaded shapeshift project (raises shapeshift.ConfigError). Queries the database."""
        from configurations.loading import load_version

        return load_version(self)

    def project_or_error(self) -> tuple[object | None, str | None]:
        """``(project, None)``, or ``(None, message)`` when the version does not load: a stored version may
        not, and pages show why. The message names bundled files by their path in the bundle, not on disk.
        """
        try:
            return self.project, None
        except shapeshift.ConfigError as exc:
            return None, str(exc).replace(str(self.materialize().parent) + "/", "")
        except OSError as exc:
            return None, f"The bundle could not be read: {exc}"


@dataclass
class Bundle:
    """A version's files in a local folder: its main YAML, and the files that must not be read, with why."""

    main: Path
    unavailable: dict[str, str] = field(default_factory=dict)


def _looks_intact(path: Path, size: int) -> bool:
    """Whether the bundle file at ``path`` has the size it should (one stat)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    if stat.S_ISFIFO(info.st_mode):
        return True  # a named pipe stands in on purpose (tests hold a worker with one): it has no size
    return stat.S_ISREG(info.st_mode) and info.st_size == size


class VersionFile(models.Model):
    """A file bundled with a version, at its path relative to the main YAML's folder."""

    version = models.ForeignKey(ConfigurationVersion, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=500)
    kind = models.CharField(max_length=20, default="data")  # main | include | load | data
    stored = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="uses")

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["version", "path"], name="unique_version_file")]

    def __str__(self):
        return self.path
