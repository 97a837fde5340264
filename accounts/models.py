"""API tokens: a user's bearer credentials for the JSON API."""

import hashlib
import secrets

from django.conf import settings
from django.db import models


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def issue(self, user, label: str = "") -> tuple["ApiToken", str]:
        """A new token for ``user``; the clear text is returned once and only its hash is stored."""
        token = "sb_" + secrets.token_urlsafe(32)
        return self.create(user=user, label=label, token_hash=hash_token(token), prefix=token[:10]), token

    def authenticate(self, token: str):
        """The active user owning ``token``, or None."""
        found = self.select_related("user").filter(token_hash=hash_token(token)).first()
        if found is None or not found.user.is_active:
            return None
        return found.user


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    label = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to tell tokens apart.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self):
        return f"{self.prefix}… ({self.user})"
