"""Django settings for ShiftBench.

Every value comes from a ``SHIFTBENCH_*`` environment variable with a safe default, so a fresh checkout
runs on SQLite and django-q2's ORM broker with nothing set. README.md lists every variable. A value that
does not parse stops the process here; the rules a parsed value must keep are system checks
(shiftbench/checks.py).
"""

import importlib.util
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.management.utils import get_random_secret_key

from shiftbench.env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
# The API docs page's Swagger UI comes from django-ninja's own files, served here (never a CDN). Found by
# path rather than by listing "ninja" in INSTALLED_APPS, whose import (ninja, pydantic: 13 MiB, 0.13 s)
# would weigh on every worker and command, which serve no API.
NINJA_DIR = Path(importlib.util.find_spec("ninja").origin).parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured key, or one generated once and kept in var/ so sessions survive restarts."""
    configured = envstr("SECRET_KEY")
    if configured:
        return configured
    keyfile = VAR_DIR / "secret_key"
    if not keyfile.exists():
        keyfile.write_text(get_random_secret_key(), encoding="utf-8")
        keyfile.chmod(0o600)
    return keyfile.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_q",
    "csp",
    "axes",  # login throttling; its admin lists and clears lockouts
    "shiftbench",  # the system checks of the SHIFTBENCH_* values below (shiftbench/checks.py)
    "accounts",
    "configurations",
    "testruns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "shiftbench.uploads.UploadLimitMiddleware",  # before CSRF, whose check reads the body
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",  # Django's, telling htmx requests to go to log in
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out attempt into the 429 answer
]

ROOT_URLCONF = "shiftbench.urls"
WSGI_APPLICATION = "shiftbench.wsgi.application"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shiftbench.context_processors.htmx",
            ],
        },
    },
]

# Databases: SQLite in var/ unless SHIFTBENCH_DATABASE_URL names another (PostgreSQL for scale-out).
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60))}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "shiftbench.sqlite3",
            "OPTIONS": {
                # WAL lets the web process read while the worker writes; IMMEDIATE takes the write lock
                # at BEGIN so two writers queue on busy_timeout instead of failing with "database is locked".
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one user name from one
# address, that pair is locked for LOGIN_COOLOFF_MINUTES (0: until an admin clears it) and gets a 429.
# A failed API token counts the same way (accounts/auth.py). An admin clears a lock by deleting it under
# Admin › Axes › Access attempts, or with `manage.py axes_reset_username NAME` / `axes_reset`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any password check
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_MINUTES = envint("LOGIN_COOLOFF_MINUTES", 15)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES) if LOGIN_COOLOFF_MINUTES else None
# User name and address together: a guesser from one address is stopped, while the real user, from
# elsewhere, can still log in (a lock on the name alone would let anyone lock anyone out).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static", NINJA_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at every start while it does not exist
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed, hashed static files served by the app itself: nothing else to set up for `make serve`.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# Background runs: django-q2. The ORM broker needs nothing beyond the database; SHIFTBENCH_REDIS_URL
# switches to Redis for many workers on many machines.
REDIS_URL = envstr("REDIS_URL")
RUN_TIMEOUT = envint("RUN_TIMEOUT", 3600)  # seconds one test run may take before the worker kills it
Q_CLUSTER = {
    "name": "shiftbench",
    "workers": envint("WORKERS", 2),
    "recycle": 50,  # a fresh worker process now and then returns pandas' memory to the system
    "timeout": RUN_TIMEOUT,
    # retry must exceed timeout, or a long run is handed to a second worker while the first still works.
    "retry": RUN_TIMEOUT + 300,
    "max_attempts": 1,  # a run is never retried behind the user's back: re-run is an explicit action
    "ack_failures": True,
    "save_limit": 1000,  # run state lives in TestRun; django-q2's task rows are only a debugging aid
    "catch_up": False,
    "label": "Background tasks",
    # ORM broker: how often an idle cluster asks the database for work. 0.05 s puts a run in `running`
    # within ~100 ms of its start; `make bench` (run_latency.py) prints the idle CPU this costs.
    "poll": envfloat("BROKER_POLL", 0.05),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if envbool("SYNC_TASKS", False):
    Q_CLUSTER["sync"] = True

# How long a running test run may go without a heartbeat, and a pending one without a worker,
# before the reaper marks it crashed / failed.
HEARTBEAT_INTERVAL = envint("HEARTBEAT_INTERVAL", 5)
HEARTBEAT_TIMEOUT = envint("HEARTBEAT_TIMEOUT", 60)
PENDING_TIMEOUT = envint("PENDING_TIMEOUT", 3600)

# Retention: when either is set, a daily django-q2 schedule prunes finished, unpinned runs created more than
# RETENTION_DAYS ago and/or beyond the newest RETENTION_KEEP_LAST per configuration (both set: a run must
# break both rules to go). Unset or 0: keep every run. `manage.py prune_runs` does the same by hand.
RETENTION_DAYS = envint("RETENTION_DAYS", 0) or None
RETENTION_KEEP_LAST = envint("RETENTION_KEEP_LAST", 0) or None

# The Excel export from the web is written whole before its first byte is sent (openpyxl: some 50,000
# cells a second), so it is refused above this many cells; the ZIP and `manage.py export_run` have no limit.
EXPORT_XLSX_MAX_CELLS = envint("EXPORT_XLSX_MAX_CELLS", 1_000_000)

# Which htmx django-htmx serves: 2 (stable) or 4; the pages work with both (the browser tests run both).
HTMX_VERSION = envint("HTMX_VERSION", 2)

# Environment variables a configuration may read with ${NAME} (fnmatch patterns, e.g. "SEAD_*"). None by
# default: configurations come from users, and a preview would show whatever they read.
CONFIG_ENV = envlist("CONFIG_ENV", [])

# PostgreSQL servers the SQL sources of stored configurations may read: comma-separated fnmatch patterns
# of host:port[/dbname] ("sead.example.org:5432/sead_*"). None by default: a source could otherwise read
# any database the worker can reach, this application's own included (that one stays refused whatever
# the list says). A role that is or can become a superuser, or may read/write server files or run
# programs, is refused unless SQL_ALLOW_SUPERUSER. Each query may run SQL_STATEMENT_TIMEOUT seconds.
SQL_ALLOWED = envlist("SQL_ALLOWED", [])
SQL_ALLOW_SUPERUSER = envbool("SQL_ALLOW_SUPERUSER", False)
SQL_STATEMENT_TIMEOUT = envint("SQL_STATEMENT_TIMEOUT", 60)

# Uploads (the import form): a request larger than UPLOAD_MAX_BYTES is refused by its Content-Length before
# anything reads it, and each file larger than UPLOAD_FILE_MAX_BYTES (default: the same) as it streams in.
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_BYTES", 200 * 1024 * 1024)
UPLOAD_FILE_MAX_BYTES = envint("UPLOAD_FILE_MAX_BYTES", UPLOAD_MAX_BYTES)
FILE_UPLOAD_HANDLERS = [
    "shiftbench.uploads.FileSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Upload requests above 1 MB stream their files to temporary files, never into the web process's memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Form fields other than files, read into memory: the editor's YAML (at most 1,000,000 characters) fits
# URL-encoded.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

# HTTPS: set SHIFTBENCH_HTTPS=true when users reach the site by https:// (TLS here or at a proxy). Cookies
# then go over HTTPS only, browsers are told to use HTTPS for a year (HSTS), and http:// is redirected.
HTTPS = envbool("HTTPS", False)
# SHIFTBENCH_BEHIND_PROXY=true: exactly one reverse proxy in front, which sets X-Forwarded-Proto and appends
# the client's address to X-Forwarded-For. Without it both headers are the client's word, never trusted.
BEHIND_PROXY = envbool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
# Django redirects http:// itself, so it works whether or not the proxy does; behind a proxy that does
# not set X-Forwarded-Proto this would loop, hence BEHIND_PROXY. SSL_REDIRECT=false leaves it to the proxy.
SECURE_SSL_REDIRECT = envbool("SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = envint("HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = envbool("HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Preloading commits the whole registrable domain to HTTPS in browsers' built-in lists, hard to undo:
    # an operator's decision (SHIFTBENCH_HSTS_PRELOAD=true), not a default the deploy check should nag about.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, so an injected
# <script>, inline handler or style does not run. htmx is configured in base.html not to need eval or
# inline styles. SHIFTBENCH_CSP_REPORT_URI: where browsers report what the policy blocked. (Not kept as
# settings.CSP_REPORT_URI: django-csp's check takes that name for its old settings format.)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],  # the API docs add data: (accounts/auth.py docs_access)
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],  # as X-Frame-Options: DENY
        "form-action": [SELF],
        "report-uri": envstr("CSP_REPORT_URI") or None,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
