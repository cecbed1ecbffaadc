"""What every route shares: one unit of work, one page-or-fragment branch, downloads.

Routes validate input, call one service, render, and commit through :func:`unit_of_work`.
Services (``*/services.py``, ``rounds/reporting.py`` …) never import this module: it is the
HTTP side of the house.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote, urlsplit

from flask import Response, current_app, flash, g, make_response, render_template, request, send_file
from flask_htmx import make_response as make_htmx_response
from sqlalchemy.orm.exc import StaleDataError

from .domain.errors import Refused
from .extensions import db, htmx
from .filenames import ascii_fallback, display_name
from .generated import Document
from .urls import safe_local_path


@dataclass
class Work:
    """What :func:`unit_of_work` reports back to the route."""

    refused: Refused | None = None
    stale: bool = False  # another session saved the same row in the same instant

    @property
    def ok(self) -> bool:
        return self.refused is None


STALE_MESSAGE = "保存未成功：他人刚刚保存了同一份数据。请刷新页面核对后再操作。"
# The app's rollback (app.extensions[ROLLBACK_KEEPER]): the app factory connects the audit
# trail's, which rolls back and then commits again the rows that record the attempt and the
# refusal (audit.services.roll_back_keeping_attempts). Without one, a plain rollback.
ROLLBACK_KEEPER = "xkxl_rollback_keeper"


def roll_back(refused: str | None = None) -> None:
    """Undo the unit of work; ``refused``: the message of the refusal that undid it."""
    keeper = current_app.extensions.get(ROLLBACK_KEEPER)
    if keeper is None:
        db.session.rollback()
        return
    try:
        keeper(refused)
    except Exception:  # the database itself failing: the original error is the one to report
        current_app.logger.exception("the audit rows of a rolled-back request were not kept")
        db.session.rollback()


@contextmanager
def unit_of_work(*, flash_refusal: bool = True) -> Iterator[Work]:
    """Commit what the block did; on :class:`Refused` roll back and (by default) flash its
    message, so that nothing half-done is kept and the clerk reads why.

    >>> with unit_of_work() as work:
    ...     services.accept(current_user, batch)
    ... if work.ok: flash("已受理。", "success")
    """
    work = Work()
    try:
        yield work
        db.session.commit()  # its flush may find the conflict: caught below like any other
    except Refused as refusal:
        roll_back(refusal.message)
        work.refused = refusal
        if flash_refusal:
            flash(refusal.message, "danger")
        return
    except StaleDataError:  # two saves of one row in the same instant: the database caught it
        roll_back(STALE_MESSAGE)
        work.refused, work.stale = Refused(STALE_MESSAGE), True
        if flash_refusal:
            flash(STALE_MESSAGE, "danger")
        return
    except BaseException:
        roll_back()
        raise


T = TypeVar("T")


def unit_of_work_on_fresh_data(action: Callable[[], T], *, flash_refusal: bool = True) -> tuple[Work, T | None]:
    """:func:`unit_of_work` around ``action()``, run once more if another session saved the same
    row in the same instant. ``action`` must read what it acts on afresh (the rollback expired
    it): the loser of a race then meets the other's change as a sequential second request would
    (“已受理，不能受理”), instead of a generic conflict, and nothing is done twice."""
    result = None
    for last in (False, True):
        with unit_of_work(flash_refusal=False) as work:
            result = action()
        if not work.stale or last:
            break
    if work.refused is not None and flash_refusal:
        flash(work.refused.message, "danger")
    return work, result if work.ok else None


def log_reason(code: str) -> None:
    """Put ``reason=code`` on this request's log line (core/requestlog.py), e.g. why an upload
    was refused (``executable``), so that the log says why and not only that. One word, no spaces."""
    g.log_reason = code


def logged_reason() -> str | None:
    return g.get("log_reason")


def wants_fragment() -> bool:
    """An htmx request that swaps part of a page (a boosted one wants the whole page)."""
    return bool(htmx) and not htmx.boosted


def render_page_or_fragment(page: str, fragment: str, **context) -> Response:
    """One URL, two answers: the whole ``page`` for a browser, the ``fragment`` for htmx.
    ``Vary: HX-Request`` keeps caches from mixing them up."""
    template = fragment if wants_fragment() else page
    response = make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response


def client_redirect(url: str, text: str, status: int = 401) -> Response:
    """For an htmx request that cannot be answered in place (log-in expired, password to
    change): the browser leaves the page for ``url`` instead of swapping a log-in form into a
    fragment."""
    return make_htmx_response(text, status, redirect=url)


def flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "danger")


def return_to_url(default: str) -> str:
    """Where a form should come back to: the page it was shown on (htmx tells us), the
    ``next`` field of a plain form, else ``default``. Only local paths are followed."""
    if htmx:
        parts = urlsplit(request.headers.get("HX-Current-URL", ""))
        if parts.path:
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            return safe_local_path(local) or default
        return default
    if request.method == "GET":
        return safe_local_path(request.full_path.rstrip("?")) or default
    return safe_local_path(request.form.get("next")) or default


def content_disposition(name: str, *, inline: bool = False, fallback: str | None = None) -> str:
    """``Content-Disposition`` header value (RFC 6266 + RFC 5987). ``fallback``: the plain
    ASCII name that says what the file is (``filenames.ascii_name``), for a client that ignores
    ``filename*``; without one it is derived from ``name`` (issue 25, 6f).

    >>> content_disposition("申报书.pdf")
    'attachment; filename="download.pdf"; filename*=UTF-8\\'\\'%E7%94%B3%E6%8A%A5%E4%B9%A6.pdf'
    >>> content_disposition("附件3.xlsx", fallback="fujian3-chengdu-2022.xlsx")
    'attachment; filename="fujian3-chengdu-2022.xlsx"; filename*=UTF-8\\'\\'%E9%99%84%E4%BB%B63.xlsx'
    """
    clean = display_name(name)
    plain = "".join(ch for ch in (fallback or ascii_fallback(clean))
                    if 32 <= ord(ch) <= 126 and ch not in '"\\%').strip() or "download"
    encoded = quote(clean, safe="!#$&+-.^_`|~")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{encoded}"


def committed(record: Callable[[], object]) -> None:
    """Run ``record`` (a download's audit row) in a unit of work of its own and commit it now,
    before the response's body is sent: a download the client receives is always recorded."""
    with unit_of_work(flash_refusal=False):
        record()


def send_document(document: Document, record: Callable[[str], object] | None = None, *,
                  fallback: str | None = None) -> Response:
    """A generated file (see :mod:`generated`) as a download named in Chinese. The file goes
    through the server's file wrapper: waitress sends it from its event loop, holding no thread
    while the client reads. ``record(name)`` writes the download's audit row (committed first);
    only the blank templates, which hold no data, are sent without one."""
    if record is not None:
        committed(lambda: record(document.name))
    response = send_file(document.file, mimetype=document.mimetype, conditional=False, etag=False,
                         max_age=0)
    response.content_length = document.size
    response.headers["Content-Disposition"] = content_disposition(document.name, fallback=fallback)
    response.headers["Cache-Control"] = "no-store"
    return response


def remember_client_address() -> None:
    """``before_request``: the audit trail records the client's address with each event of
    this unit of work (``audit.services.record`` reads it from the session's info)."""
    db.session.info["client_ip"] = request.remote_addr or ""
