"""Configurations, their immutable versions and the files each version bundles."""

import hashlib
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse
from django.utils.functional import cached_property


def blob_path(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


class StoredFileQuerySet(models.QuerySet):
    def store(self, data: bytes) -> "StoredFile":
        """The stored file holding exactly ``data``; written to storage only the first time it is seen."""
        digest = hashlib.sha256(data).hexdigest()
        existing = self.filter(sha256=digest).first()
        if existing is not None:
            return existing
        name = blob_path(digest)
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(data))
        stored, _ = self.get_or_create(sha256=digest, defaults={"size": len(data), "blob": name})
        return stored


class StoredFile(models.Model):
    """A file's bytes, stored once by content (sha256) however many versions bundle it."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    blob = models.FileField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StoredFileQuerySet.as_manager()

    def __str__(self):
        return f"{self.sha256[:12]} ({self.size} bytes)"


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

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("configurations:detail", args=[self.name])

    def next_version_number(self) -> int:
        """Queries the database."""
        last = self.versions.order_by("-number").values_list("number", flat=True).first()
        return (last or 0) + 1


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
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

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

    def materialize(self) -> Path:
        """The path of the main YAML in a local folder holding the whole bundle.

        The folder is named by the version's hash, so it is built once per machine and shared by every
        run of this version; a half-built folder is never used (built aside, then renamed into place).
        Queries the database the first time.
        """
        root = Path(settings.VAR_DIR) / "bundles" / self.sha256
        if not root.exists():
            staging = root.with_name(f"{root.name}.{os.getpid()}.tmp")
            shutil.rmtree(staging, ignore_errors=True)
            for bundled in self.files.select_related("stored"):
                target = staging / bundled.path
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundled.stored.blob.open("rb") as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            staging.mkdir(parents=True, exist_ok=True)
            try:
                staging.rename(root)
            except OSError:  # another process built it first
                shutil.rmtree(staging, ignore_errors=True)
        return root / self.main_file

    @cached_property
    def project(self):
        """The loaded shapeshift project (raises shapeshift.ConfigError)."""
        from configurations.loading import load_project

        return load_project(self.materialize())


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
