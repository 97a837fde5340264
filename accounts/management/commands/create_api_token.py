from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print it once; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--label", default="", help="what the token is for, to tell tokens apart")

    def handle(self, username, label="", **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; a token would not work.")
        token, secret = ApiToken.objects.issue(user, label=label)
        self.stderr.write(
            f"Token {token.prefix}… for {username}; shown once, store it now. Use it as "
            "'Authorization: Bearer <token>'."
        )
        self.stdout.write(secret)
