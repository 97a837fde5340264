import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Make sure someone can log in: create a superuser with a random password if there is none."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where the site will be served")

    def handle(self, username, url, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True, is_active=True).exists():
            self.stdout.write(
                "A superuser exists; log in with it (forgotten? manage.py changepassword NAME)."
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username, "", password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created superuser {username!r} with password {password!r} (shown once).\n"
                f"Log in at {url}; change it with: .venv/bin/python manage.py changepassword {username}"
            )
        )
