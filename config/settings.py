"""Settings, all from the environment (django-environ). Unset variables give the embedded development default:
SQLite in the project folder and Celery tasks run in-process."""

import logging
from datetime import timedelta
from pathlib import Path

import environ
import structlog
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
_DEV_SECRET = "dev-only-insecure-key-change-me"  # noqa: S105 - refused below when DEBUG is off
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET)
if not DEBUG and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of 50+ characters when DEBUG is off.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "axes",
    "django_ratelimit",
    "django_structlog",
    "apps.core",
    "apps.accounts",
    "apps.syllabus",
    "apps.questions",
    "apps.exams",
    "apps.scoring",
    "apps.cohorts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "apps.core.middleware.AdminStylesMiddleware",
    "apps.core.middleware.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.PrivateNoStoreMiddleware",  # after authentication: it asks who is signed in
    "django_structlog.middlewares.RequestMiddleware",  # after authentication, so each line names the user
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# The exam screens (templates/jinja2) render with Jinja2, everything else with Django's templates: see
# apps/core/jinja.py. Jinja2 is asked first, for the question page's sake; other names miss it at the cost of one
# failed file open.
TEMPLATES = [
    {
        "NAME": "jinja2",
        "BACKEND": "apps.core.jinja.Jinja2Blocks",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "apps.core.jinja.environment",
            "context_processors": [
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.text_size",
            ],
        },
    },
    {
        "NAME": "django",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.registration",
                "apps.accounts.context_processors.text_size",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if not DEBUG else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django turns psycopg's prepared statements off (for poolers); the few hot statements run through
    # `apps.core.db.planned_once_cursor` are prepared once per connection when this allows it. Behind PgBouncer in
    # transaction mode without prepared-statement support (before 1.21, or `max_prepared_statements = 0`), set 0.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "prepare_threshold", 5 if env.bool("DB_PREPARED_STATEMENTS", default=True) else None
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves threaded runserver requests and in-process Celery tasks from one file. Write
    # transactions take the write lock when they begin (IMMEDIATE), so concurrent writers queue for up to `timeout`
    # seconds instead of failing at once with "database is locked" when a read turns into a write; WAL lets
    # readers carry on while one connection writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end libraries come from the npm registry (package.json) and are served straight from node_modules,
# so no third-party file is committed.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "apps.core.storage.StaticStorage"  # WhiteNoise's hashed, compressed files
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Celery: no broker configured means tasks run in-process, so `make run` needs no Redis.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connections around every task unless this is set; it then closes them
# only every 2 x this many tasks, and config.celery recycles them as Django does for requests (CONN_MAX_AGE).
CELERY_DB_REUSE_MAX = 10_000
# Unacknowledged tasks (a worker killed mid-task) return to the queue after this; longer than any task's limit.
# An unreachable broker fails a connection in 2 s rather than the OS's TCP timeout, so a request never hangs on it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 900, "socket_connect_timeout": 2}
# Workers keep trying to reach a lost broker for as long as it takes (Celery gives up after 100 tries by default).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
# Synced into django-celery-beat's tables when beat starts; admins can change the schedule there.
CELERY_BEAT_SCHEDULE = {
    "attempts-sweep": {"task": "apps.exams.tasks.attempts_sweep", "schedule": 60.0},
    # With the 60 s threshold of attempts_unscored, scoring lost in a broker outage is re-sent by the later of
    # submission + 90 s and recovery + 30 s (when the worker has reconnected too): within 2 minutes of recovery.
    "attempts-requeue-unscored": {"task": "apps.scoring.tasks.attempts_requeue_unscored", "schedule": 30.0},
    "item-statistics-refresh": {"task": "apps.scoring.tasks.item_statistics_refresh", "schedule": 24 * 3600.0},
    "accounts-unactivated-purge": {"task": "apps.accounts.tasks.accounts_unactivated_purge", "schedule": 24 * 3600.0},
    # Monday morning (UTC), for the week ahead; a second run in the same week sends nothing again.
    "cohort-digests-send": {
        "task": "apps.cohorts.tasks.cohort_digests_send",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    },
}

CACHES = {
    "default": (
        {
            # Survives a Redis outage (reads miss, writes are dropped); short timeouts so a dead Redis costs little.
            "BACKEND": "apps.core.cache.OutageTolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# With Redis, sessions are read from the cache and written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"

# Accounts: anyone may sign up (REGISTRATION_OPEN=0 leaves accounts to staff and rosters) and activates the
# account from an emailed link (django-registration); reset and roster-invitation links last 3 days.
REGISTRATION_OPEN = env.bool("REGISTRATION_OPEN", default=True)
ACCOUNT_ACTIVATION_DAYS = 3
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600
SIGNUP_RATE = env.str("SIGNUP_RATE", default="10/h")
PASSWORD_RESET_RATE = env.str("PASSWORD_RESET_RATE", default="5/h")
# Email: any django-environ EMAIL_URL (smtp+tls://user:password@host:587); by default emails are printed on the
# console, which is where `make run` shows activation and reset links.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MLA practice <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10  # seconds; a mail server that hangs must not hold a worker (or a request, see accounts) for long
# django-ratelimit: over the limit, a 429 page; with the cache unreachable, requests pass (axes still guards
# logins, from the database). Our cache is Django's Redis cache, whose incr is atomic (W001 names only the
# backends the library lists); without Redis (`make run`) the dev server is one process, so its local memory is
# the whole picture (E003).
RATELIMIT_VIEW = "apps.accounts.views.rate_limited"
RATELIMIT_FAIL_OPEN = True
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] + ([] if REDIS_URL else ["django_ratelimit.E003"])

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's default parsers, with JSON nested too deeply for the decoder answered as a parse error, not a 500.
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="60/minute"),
        "user": env.str("API_USER_RATE", default="600/minute"),
    },
    "EXCEPTION_HANDLER": "apps.core.api.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MLA practice API",
    "DESCRIPTION": "Syllabus, questions (instructors), attempts (candidates) and cohort analytics (leads). "
    'Errors are {"error": {"code", "message", "fields"}}.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI served from our own static files (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Our URL converters (apps.core.converters): ids and positions are integers up to what their columns hold.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**63 - 1},
        "position": {"type": "integer", "minimum": 0, "maximum": 2**15 - 1},
    },
}

# Security: strict defaults that `manage.py check --deploy` accepts when DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probes from inside the network speak plain http
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): our own scripts and styles only, no inline code, no plugins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "https:"],
        "font-src": [SELF],
        "media-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Login rate limiting (django-axes): 5 failures for one username from one address lock that pair for 15
# minutes. Behind a reverse proxy set TRUSTED_PROXY_COUNT to the number of proxies in front of the app, so the
# client address is read from X-Forwarded-For (right-most entries are the trusted proxies' own); with 0 the
# header is ignored, since anyone can forge it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]

# Uploads (question imports) are refused above this size, with a message.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
# Images and audio of items: stored through the default storage (files under MEDIA_ROOT unless configured
# otherwise) and served only by apps.questions.views.item_media, which checks who may see the item.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"
ITEM_MEDIA_MAX_BYTES = env.int("ITEM_MEDIA_MAX_BYTES", default=2 * 1024 * 1024)
ITEM_MEDIA_MAX_FILES = 10
FILE_UPLOAD_HANDLERS = [
    "apps.core.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Structured logs (django-structlog): one JSON object per line in production, with a request id, the user and
# the response status for every request, and the task id and name for every Celery task (the worker logs the
# same way, see config/celery.py). LOG_FORMAT=console gives readable lines for development.
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        name: {
            "()": structlog.stdlib.ProcessorFormatter,
            "processor": renderer,
            # Lines from plain logging (Django, Celery, libraries) get the same fields as ours.
            "foreign_pre_chain": [
                structlog.contextvars.merge_contextvars,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.stdlib.add_logger_name,
                structlog.stdlib.add_log_level,
            ],
        }
        for name, renderer in (
            ("json", structlog.processors.JSONRenderer()),
            ("console", structlog.dev.ConsoleRenderer(colors=False)),
        )
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django_structlog": {"level": env.str("REQUEST_LOG_LEVEL", default="INFO")}},
}
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.filter_by_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.processors.UnicodeDecoder(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_STATUS_4XX_LOG_LEVEL = logging.INFO  # a wrong answer URL is not an operator's problem
