"""One log line per request, and a request id the clerk can read on an error page.

Every request ends with one line in the application log::

    2024-03-20T21:40:12.345+08:00 INFO rid=5f0c2a9e81d34b7a xkxl_intranet.requests \
user=chengdu city=510100 method=POST route=files.upload path=/files/applications/12/form/upload \
status=413 ms=1532 ip=10.20.3.41 reason=too_large

A request that was refused for a reason the route knows ends its line with a code
(``web.log_reason``), e.g. ``status=422 ms=40 ip=10.20.3.41 reason=executable``.

The id comes from nginx (``proxy_set_header X-Request-ID $request_id``) when it sends one, so
that nginx's access log and this log share it; otherwise it is made here. It is sent back in
the ``X-Request-ID`` header and shown on every error page, and every other line logged during
the request (a traceback, a storage warning) carries it too.

Logs go to standard error (journald under systemd) or, with ``XKXL_LOG_FILE`` (or the
``LOG_FILE`` setting), to a file that logrotate may move (``WatchedFileHandler``). See
docs/deploy.md.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import time
from datetime import datetime
from logging.handlers import WatchedFileHandler
from urllib.parse import quote

from flask import Flask, g, has_app_context, request
from flask.logging import default_handler, wsgi_errors_stream

from ..clock import SHANGHAI
from ..web import logged_reason

PACKAGE_LOGGER = "xkxl_intranet"  # also Flask's app.logger (the app's import name)
log = logging.getLogger("xkxl_intranet.requests")
_INCOMING_ID = re.compile(r"[0-9A-Za-z._-]{8,64}")
_PATH_SAFE = "/-._~!$&'()*+,;=:@"
FORMAT = "%(asctime)s %(levelname)s rid=%(request_id)s %(name)s %(message)s"


class ShanghaiFormatter(logging.Formatter):
    """Times in Beijing time with the offset, to the millisecond (as the audit trail shows)."""

    def formatTime(self, record, datefmt=None):
        return datetime.fromtimestamp(record.created, SHANGHAI).isoformat(timespec="milliseconds")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = (g.get("request_id") if has_app_context() else None) or "-"
        return True


def log_file(app: Flask) -> str | None:
    """The file the package's log goes to (``LOG_FILE`` or ``XKXL_LOG_FILE``), or None: standard error."""
    return app.config.get("LOG_FILE") or os.environ.get("XKXL_LOG_FILE") or None


def configure_logging(app: Flask) -> None:
    """The package's log: INFO and up, one handler (standard error or ``XKXL_LOG_FILE``)."""
    target = log_file(app)
    logger = logging.getLogger(PACKAGE_LOGGER)
    for handler in list(logger.handlers):
        if handler is default_handler or getattr(handler, "xkxl_handler", False):
            logger.removeHandler(handler)
            handler.close()
    if target:
        handler = WatchedFileHandler(target, encoding="utf-8")
    else:  # resolved at each record, so a test's captured stderr is never held
        # a proxy of the WSGI error stream, typed as the proxy rather than as what it writes to
        handler = logging.StreamHandler(wsgi_errors_stream)  # type: ignore[call-overload]
    handler.xkxl_handler = True  # type: ignore[union-attr]  # our mark, found above on reconfiguring
    handler.setFormatter(ShanghaiFormatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # waitress calls logging.basicConfig(): without this every line would be written twice.
    logger.propagate = False


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _INCOMING_ID.fullmatch(incoming) else secrets.token_hex(8)
    g.request_started = time.perf_counter()


def _who() -> tuple[str, str]:
    # Only a user Flask-Login already loaded for this request: logging never costs a query.
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return "-", "-"
    city = user.city.code if user.city is not None else "-"
    return user.username, city


def request_line(response) -> str:
    started = g.get("request_started")
    elapsed = round((time.perf_counter() - started) * 1000) if started is not None else -1
    user, city = _who()
    reason = logged_reason()
    return (f"user={user} city={city} method={request.method} route={request.endpoint or '-'} "
            f"path={quote(request.path, safe=_PATH_SAFE)} status={response.status_code} "
            f"ms={elapsed} ip={request.remote_addr or '-'}" + (f" reason={reason}" if reason else ""))


def _finish_request(response):
    if "request_id" not in g:  # a hook that ran before ours failed: still give the id
        g.request_id = secrets.token_hex(8)
    response.headers["X-Request-ID"] = g.request_id
    log.info(request_line(response))
    return response


def register_request_log(app: Flask) -> None:
    # First of all before_request hooks: CSRF and the log-in checks may end the request early.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
