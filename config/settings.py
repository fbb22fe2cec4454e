"""Carbon Manifest settings: one module, configured by the environment.

Unset variables give the *embedded default*: a SQLite file in the project folder and
tasks executed in-process. Production sets ``DATABASE_URL`` (PostgreSQL) and
``CELERY_BROKER_URL`` (Redis). See the README's "Configuration" table.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CM_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("CM_PRODUCTION", False):  # (PRODUCTION, below)
        raise ImproperlyConfigured("SECRET_KEY must be set when CM_PRODUCTION=1")
    # Embedded default only: a fixed, clearly-marked development key.
    SECRET_KEY = "insecure-embedded-default-key-set-SECRET_KEY-in-production"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

# --- Transport security: on in production (CM_PRODUCTION=1), behind an HTTPS proxy --------
PRODUCTION = env_bool("CM_PRODUCTION", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("CM_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("CM_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # PACT v3 (conformance cases 9–11, 17): a plain-HTTP request to /pact/ is refused, not
    # redirected; a client following a redirect would have sent its credentials in clear.
    SECURE_REDIRECT_EXEMPT = [r"^pact/"]
# PACT endpoints answer only over HTTPS: on in production, or on its own.
PACT_REQUIRE_HTTPS = env_bool("CM_PACT_REQUIRE_HTTPS", PRODUCTION)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "apps.accounts",
    "apps.audit",
    "apps.adoption",
    "apps.catalogue",
    "apps.evidence",
    "apps.facilities",
    "apps.grid",
    "apps.satellite",
    "apps.disclosures",
    "apps.estimates",
    "apps.shipments",
    "apps.web",
    "apps.pact",
]

MIDDLEWARE = [
    "apps.web.middleware.RefuseTraceMiddleware",
    "apps.common.replica.ReplicaReadsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the switcher's cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.importers.ImporterAllowlistMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "apps.accounts.lockout.LoginSlowdownMiddleware",
    "csp.middleware.CSPMiddleware",
]

# --- Content-Security-Policy (django-csp) ------------------------------------------------
# Everything the pages load is served by the site itself (the app works offline): no
# script from anywhere else, and no inline script at all (templates/ and static/ have
# none; the API docs load their initialiser as a file). Inline styles stay allowed: some
# pages and the SVG charts carry style attributes, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Authentication: brute-force lockout (django-axes) -----------------------------------
# Every password check (the login form and POST /api/v1/auth/token/) goes through
# authenticate(), which axes guards. Failures are counted per (username, address): an
# attacker who guesses one user's password from one address is locked out, while the user
# keeps logging in from their own address. Behind reverse proxies the address is read
# through them (CM_PROXY_COUNT, apps/accounts/lockout.py), else every client would share
# the proxy's address and 5 failures would lock a username out for everyone. Guesses spread
# over many addresses meet a per-username slowdown that never refuses the user's own
# addresses (CM_LOGIN_SLOWDOWN_AFTER failures, then one try per CM_LOGIN_SLOWDOWN_SECONDS).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.lockout.UsernameSlowdownBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("CM_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CM_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
CM_PROXY_COUNT = env_int("CM_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "apps.accounts.lockout.client_address"
CM_LOGIN_SLOWDOWN_AFTER = env_int("CM_LOGIN_SLOWDOWN_AFTER", 10, minimum=1)
CM_LOGIN_SLOWDOWN_SECONDS = env_int("CM_LOGIN_SLOWDOWN_SECONDS", 5, minimum=1)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: DATABASE_URL, or the embedded SQLite default -----------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    schemes=("postgres", "postgresql", "pgsql", "sqlite"),
)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "carbon_manifest.sqlite3",
            "OPTIONS": {"timeout": 30},
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("TEST", {})
# --- Reads from a streaming replica (docs/operations.md, "Reads from a replica") ----------
# With DATABASE_REPLICA_URL, the pages' and read-only API calls' reads go to the replica
# (apps/common/replica.py); writes, tasks and commands use the primary. A user who wrote
# reads the primary for CM_REPLICA_PIN_S seconds, then until the replica has replayed the
# write. A replica that refuses connections or lags over CM_REPLICA_MAX_LAG_S seconds (or
# CM_REPLICA_MAX_LAG_BYTES) is not read; its state is checked once per CM_REPLICA_CHECK_S.
DATABASE_REPLICA_URL = env_url("DATABASE_REPLICA_URL", schemes=("postgres", "postgresql", "pgsql"))
CM_REPLICA_PIN_S = env_int("CM_REPLICA_PIN_S", 10, minimum=0)
CM_REPLICA_MAX_LAG_S = env_int("CM_REPLICA_MAX_LAG_S", 30, minimum=0)
CM_REPLICA_MAX_LAG_BYTES = env_int("CM_REPLICA_MAX_LAG_BYTES", 64 * 1024 * 1024, minimum=0)
CM_REPLICA_CHECK_S = env_int("CM_REPLICA_CHECK_S", 5, minimum=1)
if DATABASE_REPLICA_URL:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL")
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60)
    # A replica that does not answer is given up quickly (then reads go to the primary).
    DATABASES["replica"]["OPTIONS"] = {
        "connect_timeout": env_int("CM_REPLICA_CONNECT_TIMEOUT_S", 2, minimum=1)
    }
    # Tests read the replica as the primary's mirror (no database of its own).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["apps.common.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # Not a rule: Django calls its password_changed() after every password change.
    {"NAME": "apps.accounts.passwords.RevokeTokensOnPasswordChange"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "shipment-list"
LOGOUT_REDIRECT_URL = "login"

# --- Languages (docs/languages.md) -------------------------------------------------------
# Pages, exports' column headers and error messages in each of LANGUAGES; the catalogs are
# locale/<code>/LC_MESSAGES/django.po, compiled to the .mo files kept beside them. The API's
# JSON field names, names of laws, CN descriptions and units are never translated.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher (POST /i18n/setlang/) remembers the choice in this cookie for a year.
LANGUAGE_COOKIE_NAME = "cm_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = PRODUCTION
USE_I18N = True
# Dates and numbers per language: Django's formats, with the few this site overrides
# (English keeps ISO dates) in apps/common/formats/<code>/formats.py.
FORMAT_MODULE_PATH = ["apps.common.formats"]
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the finders so the embedded default needs no collectstatic.
WHITENOISE_USE_FINDERS = env_bool("CM_STATIC_FROM_FINDERS", True)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env_str("CM_MEDIA_ROOT", str(VAR_DIR / "media")))
EVIDENCE_ROOT = MEDIA_ROOT / "evidence"
# Where evidence bytes live (apps/evidence/store.py; docs/operations-workers.md): "postgres"
# (blobs in the database, readable from every host) by default on PostgreSQL, "local"
# (files under EVIDENCE_ROOT) by default on SQLite, the embedded default.
EVIDENCE_STORE = env_str(
    "CM_EVIDENCE_STORE",
    "postgres" if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else "local",
)
if EVIDENCE_STORE not in ("postgres", "local"):
    raise ImproperlyConfigured(f"CM_EVIDENCE_STORE={EVIDENCE_STORE!r} is not postgres or local")
# A customs CSV with more data lines than this is ingested in chunks of about this many
# lines, each an independent task any worker on any host may take (0: never split).
CUSTOMS_CHUNK_LINES = env_int("CM_CUSTOMS_CHUNK_LINES", 250_000, minimum=0)
# Customs bulk loads on PostgreSQL: batches written at once, each on its own connection.
CUSTOMS_WRITERS = env_int("CM_CUSTOMS_WRITERS", 2, minimum=1)
# Lines per batch of a customs bulk load on PostgreSQL: each batch commits on its own, so a
# crash keeps whole batches and a replay resumes after them.
CUSTOMS_BATCH_ROWS = env_int("CM_CUSTOMS_BATCH_ROWS", 100_000, minimum=1)

# --- Uploads: size caps (docs/security-ingest.md) -------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("CM_MAX_REQUEST_BYTES", 2 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# A registry ingest models its plants for the years it covers (docs/modelled.md).
CM_MODEL_ON_REGISTRY_INGEST = env_bool("CM_MODEL_ON_REGISTRY_INGEST", True)
CM_MAX_UPLOAD_BYTES = env_int("CM_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1024)

# --- Celery: Redis broker, or in-process execution ---------------------------------------
CELERY_TASK_ALWAYS_EAGER = not env_url("CELERY_BROKER_URL", schemes=("redis", "rediss"))
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", schemes=("redis", "rediss")) or "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None  # results live in the database (IngestRun), not the broker
CELERY_TASK_IGNORE_RESULT = True
# A worker killed mid-task must lose nothing: acknowledge after the task, requeue on loss.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task unacknowledged this long is delivered again (the ingest's lease keeps a live
    # execution from running twice); idle workers look for such tasks every interval.
    "visibility_timeout": env_int("CM_VISIBILITY_TIMEOUT_S", 3600, minimum=1),
    "unacked_restore_interval": env_int("CM_UNACKED_RESTORE_INTERVAL_S", 10, minimum=1),
    "unacked_restore_throttle": 1,
}
CELERY_TASK_DEFAULT_QUEUE = "carbon-manifest"
# Bounded workers (issue #16, item 4; docs/operations-workers.md). A task past its soft
# limit gets SoftTimeLimitExceeded (its run is marked failed); past the hard limit its pool
# process is killed and replaced, and the run is given up after MAX_ATTEMPTS deliveries.
# Keep the hard limit under CM_VISIBILITY_TIMEOUT_S (the defaults do), so Redis does not
# hand a task still within its limits to a second worker (the run's lease would refuse it
# anyway). A pool process whose resident memory is over the ceiling after a task is
# replaced before the next one (untrusted tables and ENTSO-E documents are parsed in a
# limited child of their own: ingest.safety.run_limited).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CM_TASK_SOFT_TIME_LIMIT_S", 1800, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CM_TASK_TIME_LIMIT_S", 1900, minimum=1)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CM_WORKER_MAX_MEMORY_MB", 1024, minimum=64) * 1024
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CM_TASK_TIME_LIMIT_S must be greater than CM_TASK_SOFT_TIME_LIMIT_S "
        f"({CELERY_TASK_TIME_LIMIT} <= {CELERY_TASK_SOFT_TIME_LIMIT})"
    )
# `celery -A config beat` signs an audit checkpoint periodically (it also signs on demand).
CELERY_BEAT_SCHEDULE = {
    "audit-checkpoint": {
        "task": "audit.checkpoint",
        "schedule": env_int("CM_AUDIT_CHECKPOINT_INTERVAL_S", 300, minimum=10),
    },
    # PACT events: retry answers whose delivery failed, and announce changed footprints.
    "pact-deliver-due": {"task": "pact.deliver_due", "schedule": 60},
    "pact-publish": {
        "task": "pact.publish",
        "schedule": env_int("CM_PACT_PUBLISH_INTERVAL_S", 300, minimum=10),
    },
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A pending ingest run older than this whose task message is not known to be queued is sent
# again (apps/evidence/services.py; docs/operations.md).
CM_INGEST_RECONCILE_GRACE_S = env_int("CM_INGEST_RECONCILE_GRACE_S", 300, minimum=0)

# --- Witnessed audit logs (C2SP tlog-witness; docs/integrity.md §4) ----------------------
# This log's name (the first line of its checkpoints): unique among the coalition's members.
AUDIT_LOG_ORIGIN = env_str("CM_AUDIT_LOG_ORIGIN", "carbon-manifest/audit-log")
# As a witness: this instance's cosignature key name, and the logs it follows (their
# verifier keys "<origin>+<key id>+<base64>", separated by commas or whitespace).
WITNESS_NAME = env_str("CM_WITNESS_NAME") or AUDIT_LOG_ORIGIN + "/witness"
WITNESS_LOGS = env_str("CM_WITNESS_LOGS")
# As a log: the witnesses asked to cosign each checkpoint, "<vkey> <URL>" pairs separated
# by commas, e.g. "w1+1a2b3c4d+BK… https://member-b.example/witness".
WITNESSES = env_str("CM_WITNESSES")
WITNESS_TIMEOUT_S = env_int("CM_WITNESS_TIMEOUT_S", 10, minimum=1)

# --- Methodology versions adopted together (docs/adoption.md) ----------------------------
# The coalition's member keys, verifier keys "<name>+<key id>+<base64(0x01 || key)>"
# separated by commas or whitespace. Unset: the instance runs alone, its figures carry no
# adoption record. Set: figures are official only under a version whose adoption record
# carries valid signatures of CM_ADOPTION_THRESHOLD of these keys (unset or 0: a majority);
# until then they are marked preview.
COALITION_KEYS = env_str("CM_COALITION_KEYS")
ADOPTION_THRESHOLD = env_int("CM_ADOPTION_THRESHOLD", 0, minimum=0)

# --- PACT events: what one client may post (each kept event is an audit-log entry) ------
# Stored events per client per rolling minute (rate) and per rolling day (quota); beyond
# either, POST /pact/3/events answers 429 with Retry-After (apps/pact/api.py).
PACT_EVENTS_PER_MINUTE = env_int("CM_PACT_EVENTS_PER_MINUTE", 60, minimum=1)
PACT_EVENTS_PER_DAY = env_int("CM_PACT_EVENTS_PER_DAY", 2000, minimum=1)
# Our secret at a partner's /3/events, when `pact_client_create` is not given one.
PACT_EVENTS_CLIENT_SECRET = env_str("CM_PACT_EVENTS_CLIENT_SECRET")

# --- LLM endpoint (OpenAI-compatible); unset → deterministic rule-based extractor --------
LLM_BASE_URL = env_url("LLM_BASE_URL", schemes=("http", "https"))
LLM_MODEL = env_str("LLM_MODEL", "swiss-ai/Apertus-8B-Instruct-2509")
LLM_API_KEY = env_str("LLM_API_KEY")

# --- REST API ----------------------------------------------------------------------------
API_TOKEN_TTL = timedelta(hours=env_int("CM_API_TOKEN_TTL_HOURS", 24 * 7, minimum=1))
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apps.accounts.importers.ImporterAllowlist",
    ],
    # django-filter's backend, with every number filter held to its column's range.
    "DEFAULT_FILTER_BACKENDS": ["apps.common.filters.BoundedNumberFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "apps.common.pagination.KeysetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Carbon Manifest API",
    "DESCRIPTION": "Embedded emissions of traded goods, with traces that recompute byte-for-byte.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name across components get stable names of their own.
    "ENUM_NAME_OVERRIDES": {
        "EmissionKindEnum": "apps.grid.models.Kind",
        "DisclosureStatusEnum": "apps.disclosures.models.Status",
        # The ladder's tiers, named once (a shipment's tier and best_tier, estimates).
        "TierEnum": "apps.estimates.models.Tier",
    },
    # Every operation also documents its error answers (400/401/403/404): apps/web/openapi.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.web.openapi.document_error_responses",
        "apps.web.openapi.drop_invalid_defaults",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    # kombu warns "No hostname was supplied" for the in-process memory:// transport.
    "loggers": {"kombu.connection": {"level": "ERROR"}},
}
