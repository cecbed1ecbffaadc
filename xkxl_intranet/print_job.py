"""Turning a print's HTML into a PDF, as a job the page waits for (``printing.render_pdf``): in a
child process of the worker with limits of its own, so that WeasyPrint's memory is given back
when the child ends, and a document too large to print costs a job, never the server.

The limits are larger than a reading's: the province's roster of 2,016 applications is the
largest print (about 450 MB at its peak, 20-60 s on a busy machine), and each child starts from
the worker's own address space (WeasyPrint and the CJK font already loaded: see
:func:`warm_up`), which ``RLIMIT_AS`` counts.
"""
from __future__ import annotations

import logging

from flask import current_app

from .jobs.limits import ChildFailed, LimitExceeded, Limits, address_space_exhausted, run_limited
from .jobs.queue import PRINT_PDF_JOB, handler
from .printing import write_pdf

log = logging.getLogger(__name__)


class PrintFailed(Exception):
    """The PDF could not be made (a limit, or WeasyPrint failed): the page waiting for it says to
    try again or to ask the administrator (the job's error reaches it as ``JobUnavailable``)."""


def print_limits(config) -> Limits:
    """The child's limits, from ``RENDER_MEMORY_MB``, ``RENDER_CPU_SECONDS``, ``RENDER_WALL_SECONDS``
    (their defaults are the app factory's)."""
    return Limits(memory_mb=int(config["RENDER_MEMORY_MB"]), cpu_seconds=int(config["RENDER_CPU_SECONDS"]),
                  wall_seconds=float(config["RENDER_WALL_SECONDS"]))


def _write_pdf_within_limits(html: str, base_url: str | None, lean: bool) -> bytes:
    """In the child: a C library that cannot allocate reports it as any error (cairo, harfbuzz,
    the interpreter's ``SystemError``); at the address-space limit that is the memory limit."""
    try:
        return write_pdf(html, base_url, lean)
    except MemoryError:
        raise
    except Exception:
        if address_space_exhausted():
            raise MemoryError from None
        raise


@handler(PRINT_PDF_JOB)
def print_pdf_job(html: str, base_url: str | None, lean: bool) -> bytes:
    config = current_app.config
    if not config.get("JOBS_ISOLATE", True):
        return write_pdf(html, base_url, lean)
    limits = print_limits(config)
    try:
        return run_limited(_write_pdf_within_limits, html, base_url, lean, limits=limits)
    except LimitExceeded as err:
        log.error("a PDF of %d characters of HTML was stopped at its %s limit (%s)", len(html), err.reason,
                  err.detail)
        raise PrintFailed(f"超出处理限度（{err.reason}）") from err
    except ChildFailed as err:
        log.error("a PDF could not be made: %s", err)
        raise PrintFailed(str(err)) from err


def warm_up() -> None:
    """Import WeasyPrint and load the CJK font once in the worker, before it forks its children:
    each child then starts with them (about 1 s otherwise, paid by every print)."""
    write_pdf("<p style=\"font-family: 'Noto Sans CJK SC'\">预热</p>")
