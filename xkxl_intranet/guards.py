"""Request guards: what every request passes before a view runs, and every answer after.

- **Bounded bodies.** Each request gets a body limit before anything reads its body (the hook is
  registered before CSRF protection, which reads the form): small for every route, the file
  limit plus :data:`UPLOAD_MARGIN` for a route marked with :func:`accepts_upload`. A request whose
  Content-Length is over the limit is answered 413 at once, unread; a body without one is cut
  off at the limit by werkzeug.
- **Uploads only from a live session.** File parts are written into the storage's tmp folder
  only on an upload route and for a logged-in, not idle session; anywhere else they stay in
  memory (the body is small), so no body of an anonymous client is ever written to disk by the
  app. waitress buffers a body before the app sees it; the serving command gives it the same
  limits from the headers (``serving.BodyGate``), so a body over its route's limit, or any large
  body of a client without a log-in, is read past without being kept.
- **Nothing kept by the browser.** Every answer but a static file says ``Cache-Control:
  no-store``: pages after log-in, receipts, downloads (OWASP ASVS 8.2.1).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from flask import Flask, Response, abort, current_app, g, request, session
from flask_login import current_user

from .clock import now

MiB = 1024 * 1024
# The form around an uploaded file: multipart boundaries and headers, the CSRF token, the page
# to come back to. Well under 4 KB in practice.
UPLOAD_MARGIN = 64 * 1024
# Any request of a client that is not logged in: the log-in form is well under 1 KB.
ANONYMOUS_BODY_BYTES = 16 * 1024
# MAX_FORM_KB: the longest form (an application, a return reason) is some tens of KB; 1 MB holds
# about 110,000 Chinese characters URL-encoded.
DEFAULT_FORM_KB = 1024
# Set by the server when it refused a body from the headers and let it pass without keeping it
# (serving.BodyGate): the app answers 413 whatever else the request says.
BODY_DISCARDED_HEADER = "XKXL_BODY_DISCARDED"
BODY_DISCARDED_ENVIRON = "HTTP_" + BODY_DISCARDED_HEADER
# With it, for a chunked body (no Content-Length to go by): how many bytes the server read past.
BODY_BYTES_HEADER = "XKXL_BODY_BYTES"
BODY_BYTES_ENVIRON = "HTTP_" + BODY_BYTES_HEADER


@dataclass(frozen=True)
class BodyLimit:
    size: int  # bytes
    title: str  # of the 413 page
    message: str  # names the limit
    upload: bool = False  # file parts may stream into storage


def accepts_upload(max_file_bytes: Callable[[], int], what: str, advice: str):
    """Mark a route (directly under ``@bp.route``) as taking uploaded files of at most
    ``max_file_bytes()`` each; ``what`` and ``advice`` make the 413 page: ``每个文件不超过 200 MB，
    请压缩或拆分后重新上传``."""

    def mark(view):
        view.upload_limit = (max_file_bytes, what, advice)
        return view
    return mark


def upload_body_limit(max_file_bytes: int) -> int:
    """The body limit of an upload route (and of waitress, see the Makefile)."""
    return max_file_bytes + UPLOAD_MARGIN


def size_label(size: int) -> str:
    return f"{size // MiB} MB" if size >= MiB else f"{size // 1024} KB"


def limit_for(app: Flask, endpoint: str | None, logged_in: bool) -> BodyLimit:
    """The body limit of a request to ``endpoint``: the file limit plus the form's margin on an
    upload route, else small (smaller still for a client that is not logged in). Used by the app
    (:func:`body_limit`) and, before any body is read, by the server (``serving.BodyGate``)."""
    view = app.view_functions.get(endpoint or "")
    upload = getattr(view, "upload_limit", None)
    if upload is not None:
        max_file_bytes, what, advice = upload[0](), upload[1], upload[2]
        return BodyLimit(upload_body_limit(max_file_bytes), "文件过大",
                         f"上传的文件超过了系统允许的大小（{what}不超过 {size_label(max_file_bytes)}），"
                         f"未保存。{advice}", upload=True)
    size = app.config.get("MAX_FORM_KB", DEFAULT_FORM_KB) * 1024 if logged_in else ANONYMOUS_BODY_BYTES
    return BodyLimit(size, "提交的内容过大",
                     f"提交的内容超过了系统允许的大小（不超过 {size_label(size)}），未保存。"
                     "请返回上一页，缩短填写的内容后重试。")


def body_limit() -> BodyLimit:
    """The limit of the current request, from its route and whether someone is logged in; never
    above ``MAX_CONTENT_LENGTH``."""
    limit = limit_for(current_app, request.endpoint, current_user.is_authenticated)
    cap = current_app.config.get("MAX_CONTENT_LENGTH")
    return replace(limit, size=cap) if cap and cap < limit.size else limit


def idle_expired() -> bool:
    """The session's last activity is longer ago than the idle limit (2 hours)."""
    seen = session.get("seen_at")
    return (seen is not None
            and now().timestamp() - seen > current_app.permanent_session_lifetime.total_seconds())


def bound_request() -> Response | None:
    """``before_request``, ahead of CSRF protection: see the module's docstring."""
    if request.endpoint == "static":
        return None
    limit = body_limit()
    g.body_limit = limit
    request.max_content_length = limit.size
    uploading = limit.upload and request.method not in ("GET", "HEAD")
    if uploading and (not current_user.is_authenticated or idle_expired()):
        # Flask-Login keeps its manager on the app, which Flask's types do not know
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]  # body unread
    if (request.content_length or 0) > limit.size or request.environ.get(BODY_DISCARDED_ENVIRON) == "1":
        abort(413)
    if uploading:
        request.streams_into_storage = True  # type: ignore[attr-defined]  # the app's UploadRequest
    return None


def refused_body_size() -> int | None:
    """The size of a body refused as too large, for the audit trail: the declared Content-Length
    (the body was not read), or what the server counted of a chunked one it read past."""
    counted = request.environ.get(BODY_BYTES_ENVIRON, "") if request.environ.get(BODY_DISCARDED_ENVIRON) == "1" else ""
    return int(counted) if counted.isdigit() else request.content_length


def no_store(response: Response) -> Response:
    """``after_request``: no answer but a static file is kept by the browser."""
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def register_guards(app: Flask) -> None:
    """Called by the app factory before CSRF protection is set up (it reads the body)."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default: no limit at all
        app.config["MAX_CONTENT_LENGTH"] = upload_body_limit(app.config["MAX_UPLOAD_MB"] * MiB)
    app.before_request(bound_request)
    app.after_request(no_store)
