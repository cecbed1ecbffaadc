"""xkxl_intranet: 四川省跨行业跨领域工业互联网平台推荐申报系统."""
from __future__ import annotations

import gc
import os
import secrets
from datetime import timedelta
from pathlib import Path

# Importing the package and building the app make ~140,000 objects that live as long as the
# process (modules, mappers, templates). Collecting the youngest generation every 700
# allocations meanwhile frees nothing and cost each start of the serving command about 70 ms
# (benchmarks/bench_startup.py), so the young generation is collected every 10,000 allocations
# from here on, in every process; the serving command keeps the same for its requests
# (serving.tune_garbage_collector, which also freezes what the build made).
GC_THRESHOLDS = (10_000, 20, 20)
gc.set_threshold(*GC_THRESHOLDS)

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .audit.chain import ensure_key_file
from .audit.services import database_identity
from .auth.password_expiry import expire_password, expiry_of
from .auth.scoping import keep_confined_roles_to_their_pages
from .auth.second_factor.routes import ENROLMENT_ENDPOINTS
from .auth.second_factor.services import must_enrol
from .auth.services import load_user_by_session_id
from .auth.sessions import DEFAULT_IDLE, TOKEN_KEY, end_session, idle_on_server, note_activity
from .clock import now
from .domain.durations import format_duration
from .domain.login_throttle import ThrottleLimits
from .envsettings import whole_number
from .extensions import csrf, db, htmx, login_manager
from .generated import DEFAULT_MAX_MB, DEFAULT_RENDER_SLOTS, DEFAULT_WAIT_SECONDS, identify_database_with
from .guards import idle_expired, register_guards
from .instance_lock import hold_shared
from .jobs import queue as job_queue
from .mail.settings import settings_from_environment as smtp_settings_from_environment
from .notice.shipped import NOTICES_DIR
from .ops.chain import FULL_EVERY_DAYS
from .ops.schema import MIGRATIONS_DIR
from .urls import IdConverter
from .web import client_redirect, remember_client_address, unit_of_work

# 2 hours: a clerk types the 申报书's 119 fields from the paper copy and may leave a half-typed
# form for a meeting; README's settings table says how to set ASVS's 30 minutes instead.
IDLE_TIMEOUT = DEFAULT_IDLE
_THROTTLE = ThrottleLimits()
# The log-in throttle (auth/throttle.py; why these defaults: ThrottleLimits), whole numbers, each
# also settable as XKXL_<name> in the environment.
LOGIN_SETTINGS = {
    "LOGIN_GUESSES_PER_PAIR": _THROTTLE.free_per_pair,
    "LOGIN_GUESSES_PER_ADDRESS": _THROTTLE.free_per_address,
    "LOGIN_FIRST_DELAY_SECONDS": int(_THROTTLE.first_delay.total_seconds()),
    "LOGIN_MAX_DELAY_SECONDS": int(_THROTTLE.max_delay.total_seconds()),
    "LOGIN_WINDOW_MINUTES": int(_THROTTLE.window.total_seconds() // 60),
    "LOGIN_LOCK_FAILURES": _THROTTLE.lock_failures,
    "LOGIN_LOCK_ADDRESSES": _THROTTLE.lock_addresses,
    "LOGIN_LOCK_MINUTES": int(_THROTTLE.lock_duration.total_seconds() // 60),
}
# How long before the idle limit the page warns (with a 继续使用 button), so that a clerk who
# stepped away from a half-typed form can save it before the session ends.
IDLE_WARNING = timedelta(minutes=5)


def create_app(test_config: dict | None = None, *, commands: bool = True) -> Flask:
    """The app. ``commands``: register the command-line tools (``flask init-db`` …) and
    Flask-Migrate; the serving command and the job worker run none of them, and skip importing
    them (a quicker start: benchmarks/bench_startup.py). Alembic itself is loaded everywhere:
    the serving command and /healthz compare the database's revision with the program's
    (ops/schema.py)."""
    app = Flask(__name__, instance_relative_config=True,
                instance_path=(test_config or {}).get("INSTANCE_PATH")
                or os.environ.get("XKXL_INSTANCE_PATH") or None)
    os.makedirs(app.instance_path, exist_ok=True)

    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI="sqlite:///" + os.path.join(app.instance_path, "xkxl.sqlite3"),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        UPLOAD_FOLDER=os.path.join(app.instance_path, "uploads"),
        MAX_UPLOAD_MB=200,
        # Files the system makes and keeps to send again (ZIP archives: files/archive_cache.py);
        # deployed, a folder nginx may read (deploy/xkxl.env).
        GENERATED_FOLDER=os.environ.get("XKXL_GENERATED_FOLDER") or os.path.join(app.instance_path, "generated"),
        ZIP_CACHE_MAX_MB=20480,  # the kept archives together; the oldest used are removed
        ZIP_DISK_RESERVE_MB=1024,  # free space a build leaves on the disk, for uploads
        ZIP_INLINE_BYTES=8 * 1024 * 1024,  # smaller archives are built in the request itself
        ZIP_BUILD_THREADS=2,  # larger ones in the background, this many at once
        # Behind nginx: a kept file is handed to nginx by X-Accel-Redirect under this prefix (its
        # internal location aliases GENERATED_FOLDER; deploy/nginx-xkxl.conf). None: waitress
        # sends it from its event loop.
        X_ACCEL_REDIRECT=os.environ.get("XKXL_X_ACCEL_REDIRECT") or None,
        DASHBOARD_REFRESH_SECONDS=15,
        # The header's unread-notice count asks again this often (htmx, a background poll that
        # is not activity); 0: only when a page loads.
        NOTICE_POLL_SECONDS=60,
        DASHBOARD_CACHE=True,
        # Generated documents (generated.py) are kept in GENERATED_FOLDER itself, the ZIPs in its
        # zip/ folder: how much of them, how many renders at once in all processes, and how
        # long a download waits for its turn.
        GENERATED_MAX_MB=DEFAULT_MAX_MB,
        RENDER_SLOTS=DEFAULT_RENDER_SLOTS,
        RENDER_WAIT_SECONDS=DEFAULT_WAIT_SECONDS,
        # Province and administrator accounts must enrol a second factor (TOTP) before anything
        # else; other roles may. Off unless the deployment says so (deploy/xkxl.env turns it on).
        REQUIRE_2FA=os.environ.get("XKXL_REQUIRE_2FA") == "1",
        # 批量开通市州账号 (auth/onboarding/): the address printed on the credential slips (None:
        # the address the administrator's request came to), where a slip's PDF waits for its one
        # download (never GENERATED_FOLDER, which nginx reads) and for how many minutes at most.
        PUBLIC_URL=os.environ.get("XKXL_PUBLIC_URL") or None,
        ONBOARDING_SLIPS_FOLDER=os.path.join(app.instance_path, "slips"),
        ONBOARDING_SLIP_MINUTES=30,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="xkxl_session",
        PERMANENT_SESSION_LIFETIME=IDLE_TIMEOUT,
        IDLE_WARNING=IDLE_WARNING,
        # A password expires this many days after it was set (0: never) and every page warns this
        # many days before (auth/password_expiry.py; README, settings).
        PASSWORD_MAX_AGE_DAYS=whole_number("XKXL_PASSWORD_MAX_AGE_DAYS", 90),
        PASSWORD_EXPIRY_WARNING_DAYS=whole_number("XKXL_PASSWORD_EXPIRY_WARNING_DAYS", 7),
        SESSION_REFRESH_EACH_REQUEST=True,
        # Live sessions one account may hold at once (0: no bound); a log-in past it ends the
        # session idle the longest (auth/sessions.py).
        MAX_SESSIONS_PER_ACCOUNT=3,
        # A monitor that sends "Authorization: Bearer <this>" reads /healthz's details; unset,
        # only a signed-in administrator does (core/routes.py).
        HEALTH_TOKEN=None,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (2 h idle) session
        WTF_CSRF_SSL_STRICT=False,
        # Jobs (jobs/): the worker processes the serving command starts, and each job's limits.
        # JOBS_INLINE runs a job in this process right after the commit that asks for it: tests
        # only (they import job_handlers; the web process has no handlers and starts no worker).
        JOBS_INLINE=False,
        JOBS_ISOLATE=True,  # a reading runs in a child process within the limits below
        # One worker process: a reading takes 0.1-0.3 s, so one keeps up with 21 cities; a second
        # doubled what a hostile upload can hold (two children at the memory cap, bench_hostile.py).
        JOBS_WORKERS=1,
        JOBS_MEMORY_MB=512,
        JOBS_CPU_SECONDS=20,
        JOBS_WALL_SECONDS=30,
        JOBS_NICE=10,  # the worker runs below the web server's CPU priority
        JOBS_CALL_SECONDS=30,  # a page waiting for a job (the .docx template) gives up after this
        # The notice files 开启新批次 offers (notices/<year>.toml, shipped in the package); a file
        # may also be uploaded there. An opened round keeps its own copy (batches/round_notice.py).
        NOTICES_FOLDER=str(NOTICES_DIR),
        # Printing (printing.py, print_job.py): the serving command turns PRINT_IN_WORKER on, and
        # a PDF is then made by the worker in a child within these limits (the roster of 2,016
        # applications, the largest print, peaks at about 450 MB above the worker's own ~300 MB
        # of address space); the page waits up to RENDER_WAIT_SECONDS.
        PRINT_IN_WORKER=False,
        RENDER_MEMORY_MB=1024,
        RENDER_CPU_SECONDS=120,
        RENDER_WALL_SECONDS=150,
        # 三权分立: an account holds one duty (business, accounts, or the audit trail). A small
        # deployment may let province accounts also manage accounts and read the whole trail
        # (XKXL_COMBINED_DUTIES=1), accepting what 等保三级 does not (auth/scoping.py).
        COMBINED_DUTIES=os.environ.get("XKXL_COMBINED_DUTIES") == "1",
        # The audit trail (audit/chain.py, audit/archive.py): the key of its hash chain, kept
        # outside the database (and in every backup); how long rows stay online before the daily
        # job archives them (0: never), and where the archives go.
        AUDIT_KEY_FILE=os.environ.get("XKXL_AUDIT_KEY_FILE") or os.path.join(app.instance_path, "audit-chain.key"),
        AUDIT_RETENTION_DAYS=whole_number("XKXL_AUDIT_RETENTION_DAYS", 180),
        AUDIT_ARCHIVE_DIR=os.environ.get("XKXL_AUDIT_ARCHIVE_DIR") or os.path.join(app.instance_path, "audit-archive"),
        # The nightly backups (ops/backup.py, ops/chain.py): /healthz watches this folder's free
        # space and the age of its newest archive; a new full backup once the chain's full one
        # is this many days old (the nights between add only new files).
        BACKUP_DIR=os.environ.get("XKXL_BACKUP_DIR") or None,
        BACKUP_FULL_DAYS=whole_number("XKXL_BACKUP_FULL_DAYS", FULL_EVERY_DAYS),
    )
    app.config.from_mapping(LOGIN_SETTINGS)
    # Mail (mail/settings.py): on only with XKXL_SMTP_HOST and XKXL_SMTP_PORT; README, settings.
    app.config.from_mapping(smtp_settings_from_environment())
    if test_config is None:
        hold_shared(app.instance_path)  # flask restore refuses while any process holds it
        _ensure_secret_key(app)
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    if os.environ.get("DATABASE_URL") and not (test_config or {}).get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(os.environ["DATABASE_URL"])
    if os.environ.get("XKXL_SECURE_COOKIES") == "1":
        app.config["SESSION_COOKIE_SECURE"] = True
    _login_settings_from_environment(app, test_config or {})
    idle_minutes = whole_number("XKXL_IDLE_MINUTES", minimum=1)
    if idle_minutes is not None:
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=idle_minutes)
    max_sessions = whole_number("XKXL_MAX_SESSIONS_PER_ACCOUNT")  # 0: no bound
    if max_sessions is not None:
        app.config["MAX_SESSIONS_PER_ACCOUNT"] = max_sessions
    if os.environ.get("XKXL_HEALTH_TOKEN"):
        app.config["HEALTH_TOKEN"] = os.environ["XKXL_HEALTH_TOKEN"]
    if test_config is None:  # first start: the audit chain's key, kept like the SECRET_KEY
        ensure_key_file(Path(app.config["AUDIT_KEY_FILE"]))

    db.init_app(app)
    identify_database_with(app, database_identity)  # generated files are kept per database
    job_queue.init_app(app)
    register_guards(app)  # bounds every request body before CSRF protection reads it
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    _configure_login(app)

    from . import models  # noqa: F401  (registers every model with the metadata)
    from .announcements.routes import bp as announcements_bp
    from .applications.routes import bp as applications_bp
    from .auth.onboarding.routes import bp as onboarding_bp
    from .auth.routes import bp as auth_bp
    from .auth.second_factor.routes import bp as second_factor_bp
    from .batches.routes import bp as rounds_bp
    from .core.audit_hooks import connect_audit
    from .core.errors import register_error_handlers
    from .core.routes import bp as core_bp
    from .mail.routes import bp as mail_bp
    from .materials.routes import bp as files_bp
    from .notifications import events as _notice_events  # noqa: F401  (a locked account's notice)
    from .notifications.routes import bp as notifications_bp
    from .reports.routes import bp as reports_bp
    from .review import rules as _review_rules  # noqa: F401  (an expert's applications: their assignments)
    from .review.routes import bp as review_bp
    from .trail.routes import bp as audit_bp

    app.url_map.converters["id"] = IdConverter  # <id:…> in every route that names a record
    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(onboarding_bp)
    app.register_blueprint(second_factor_bp)
    app.register_blueprint(rounds_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(files_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(announcements_bp)
    app.register_blueprint(notifications_bp)
    register_error_handlers(app)
    connect_audit(app)  # a rolled-back request keeps the rows of its attempts

    if commands:
        _register_commands(app)

    from .templating import register_templating
    register_templating(app)
    from .core.requestlog import configure_logging, register_request_log
    configure_logging(app)
    register_request_log(app)
    _register_request_hooks(app)
    return app


def _register_commands(app: Flask) -> None:
    from flask_migrate import Migrate

    from .applications.cli import register_cli as register_applications_cli
    from .cli import register_cli
    from .files.cli import register_cli as register_files_cli
    from .ops.cli import register_cli as register_ops_cli

    Migrate(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    register_cli(app)
    register_files_cli(app)
    register_applications_cli(app)
    register_ops_cli(app)


def normalise_database_url(url: str) -> str:
    """The address as the docs write it (``postgresql://…``, or Heroku's ``postgres://…``) names
    no driver, and SQLAlchemy 2.1's default for it is psycopg 3, which is not installed: the
    driver the program ships (psycopg2) is named here. An address that names a driver is kept."""
    for bare in ("postgres://", "postgresql://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare):]
    return url


def _ensure_secret_key(app: Flask) -> None:
    """First start: write instance/config.py with a random SECRET_KEY (kept thereafter)."""
    path = Path(app.instance_path) / "config.py"
    if not path.exists():
        path.write_text(
            "# Generated on first start. Keep this file private; it signs the session cookies.\n"
            f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
            "# DATABASE_URL in the environment overrides this, e.g. postgresql://user@host/xkxl\n"
            "# SQLALCHEMY_DATABASE_URI = 'sqlite:///...'\n"
            "# MAX_UPLOAD_MB = 200\n",
            encoding="utf-8")
        path.chmod(0o600)


def _login_settings_from_environment(app: Flask, given: dict) -> None:
    """``XKXL_LOGIN_…`` overrides ``LOGIN_…`` (except where a test's config names it); a value
    that is not a whole number ≥ 0 stops the start with the setting's name."""
    for name in LOGIN_SETTINGS:
        value = None if name in given else whole_number(f"XKXL_{name}")
        if value is not None:
            app.config[name] = value


def _configure_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        found = load_user_by_session_id(session_id, session.get(TOKEN_KEY))
        if found is None:
            return None
        user, g.user_session = found  # the idle hook records its activity
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        if htmx:
            # htmx would swap a log-in page into a fragment; send the browser there instead.
            return client_redirect(url_for("auth.login"), "请先登录")
        if request.method == "GET":
            flash("请先登录。", "warning")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return redirect(url_for("auth.login"))


# A browser whose session was ended elsewhere (我的账号 › 结束此会话, a log-in past the account's
# limit, a password change or reset, a disabled account) is told so once, not only 请先登录.
SESSION_ENDED_MESSAGE = ("您的登录会话已结束：可能已在“我的账号”中被结束、同一账号在别处登录过多，"
                         "或密码已修改。请重新登录；尚未保存的内容需重新填写。")

ALWAYS_ALLOWED_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.change_password_view",
                            "auth.keep_alive", "core.healthz", "core.favicon"}


def _send_to(endpoint: str, htmx_text: str):
    """Where a signed-in request must go first; a fragment request must not swap that page into
    the page, so htmx is told to load it whole."""
    if htmx:
        return client_redirect(url_for(endpoint), htmx_text)
    return redirect(url_for(endpoint))


def _tell_an_ended_session() -> None:
    """The cookie names a session the server has ended (no user was loaded for it): say so once."""
    if session.get(TOKEN_KEY):
        session.clear()
        flash(SESSION_ENDED_MESSAGE, "warning")


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def enforce_idle_timeout_and_password_change():
        if request.endpoint in ("static", "core.favicon"):
            return None
        if not current_user.is_authenticated:
            _tell_an_ended_session()
            return None
        moment = now().timestamp()
        live = g.get("user_session")  # the session's row (auth/sessions.py), from the user loader
        idle_row = live is not None and idle_on_server(live, now(), current_app.permanent_session_lifetime)
        if idle_expired() or idle_row:  # the cookie's seen_at, or the row's last activity
            with unit_of_work():  # the session's row goes too: no copy of the cookie opens it
                end_session(session.get(TOKEN_KEY))
            logout_user()
            session.clear()
            flash(f"超过{format_duration(current_app.permanent_session_lifetime)}未操作，已自动退出，请重新登录。",
                  "warning")
            return _send_to("auth.login", "登录已过期")
        # Background polling (the dashboard refreshing itself) is not activity: an open,
        # unattended page must not keep a session alive past the idle limit.
        if request.headers.get("X-Background-Poll") != "1":
            session["seen_at"] = moment
            # On the server too, to the minute: a page view writes once a minute at most (a
            # commit here, before the view's own work, only then).
            if live is not None and note_activity(live, now()):
                db.session.commit()
        _expire_password_when_due()
        if current_user.must_change_password and request.endpoint not in ALWAYS_ALLOWED_ENDPOINTS:
            return _send_to("auth.change_password_view", "请先修改密码")
        if (current_app.config["REQUIRE_2FA"] and request.endpoint not in ALWAYS_ALLOWED_ENDPOINTS
                and request.endpoint not in ENROLMENT_ENDPOINTS and must_enrol(current_user, True)):
            return _send_to("second_factor.page", "请先设置两步验证")
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Nothing is loaded from outside the server; the policy says so.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'self'; form-action 'self'")
        response.vary.add("HX-Request")
        return response

    app.before_request(remember_client_address)
    app.before_request(keep_confined_roles_to_their_pages)  # after the password-change redirect above


def _expire_password_when_due() -> None:
    """An expired password (PASSWORD_MAX_AGE_DAYS) sets ``must_change_password``, the gate of
    ``enforce_idle_timeout_and_password_change``, once: at the first request of the account that
    meets it, be it just after log-in or in a session begun before."""
    if current_user.must_change_password:
        return
    expiry = expiry_of(current_user, max_age_days=current_app.config["PASSWORD_MAX_AGE_DAYS"],
                       warning_days=current_app.config["PASSWORD_EXPIRY_WARNING_DAYS"])
    if expiry is not None and expiry.has_expired(now()):
        with unit_of_work():
            expire_password(current_user._get_current_object(), expiry)
        flash(f"密码已于 {expiry.expires_at:%Y-%m-%d} 到期，请先修改密码。", "warning")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # Foreign keys are off by default in SQLite; WAL lets readers run during a write.
    if dbapi_connection.__class__.__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
