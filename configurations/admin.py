from django.contrib import admin

from configurations.models import Configuration, ConfigurationVersion, StoredFile, VersionFile


class ReadOnlyAdmin(admin.ModelAdmin):
    """History that must not change: viewable, never added or edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Configuration)
class ConfigurationAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "current_version", "owner", "updated_at"]
    search_fields = ["name", "title"]
    raw_id_fields = ["current_version", "owner", "target_model"]
    list_select_related = ["current_version", "owner"]
    readonly_fields = ["created_at", "updated_at"]


class VersionFileInline(admin.TabularInline):
    model = VersionFile
    fields = ["path", "kind", "stored"]
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ConfigurationVersion)
class ConfigurationVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "configuration",
        "number",
        "created_at",
        "created_by",
        "message",
        "format_version",
        "format_forced",
        "sha256",
    ]
    list_filter = ["configuration", "format_version", "format_forced"]
    list_select_related = ["configuration", "created_by"]
    search_fields = ["configuration__name", "message", "sha256"]
    inlines = [VersionFileInline]


@admin.register(VersionFile)
class VersionFileAdmin(ReadOnlyAdmin):
    list_display = ["path", "kind", "version", "stored"]
    list_filter = ["kind"]
    list_select_related = ["version__configuration", "stored"]
    search_fields = ["path"]


@admin.register(StoredFile)
class StoredFileAdmin(ReadOnlyAdmin):
    list_display = ["sha256", "size", "created_at"]
    search_fields = ["sha256"]
