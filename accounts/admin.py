from django.contrib import admin

from accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens come from ``ApiToken.objects.issue`` (clear text shown once); here they are listed, revoked."""

    list_display = ["prefix", "user", "label", "created_at"]
    list_select_related = ["user"]
    search_fields = ["prefix", "label", "user__username"]
    fields = ["user", "label", "prefix", "created_at"]  # never the hash
    readonly_fields = ["user", "prefix", "created_at"]

    def has_add_permission(self, request):
        return False
