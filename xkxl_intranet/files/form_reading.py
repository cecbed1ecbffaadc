"""Reading a stored 申报书: its text (:mod:`.form_text`, bounded) read into the declared fields
(``domain/form_reader.py``), as the small JSON kept on the file's row (``StoredFile.reading``) so
that pages never read the document again.

Only the worker imports this module (it imports the document readers): reading is a job
(``applications/reading_job.py``), run in a child process with limits. Every outcome is a status the page
explains — ``read``, ``unsupported`` (.doc, .wps, OFD), ``no_text`` (a scan), ``too_large``,
``failed``; a reading killed at a limit is ``over_limit`` (``files/reading_state.py``).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from flask import Config

from ..domain.declaration import Form
from ..domain.form_marks import option_words
from ..domain.form_reader import past_the_figures, read_form
from ..jobs.limits import address_space_exhausted
from .form_text import ReadLimits, Unreadable, extract_text
from .reading_state import (  # noqa: F401  (re-exported: what a reading says, for the readers' tests)
    FAILED_MESSAGE,
    READABLE_KINDS,
    READER_VERSION,
    STATUS_LABELS,
    UNSUPPORTED_MESSAGE,
    StoredReading,
    base_reading,
    stored_reading,
    unsupported_reading,
)

log = logging.getLogger(__name__)


def limits(config: Config | dict) -> ReadLimits:
    """The bounds of reading, from the app's configuration (``FORM_READ_*``)."""
    defaults = ReadLimits()
    return ReadLimits(
        max_xml_bytes=int(config.get("FORM_READ_MAX_XML_MB") or defaults.max_xml_bytes // 1048576) * 1048576,
        max_pages=int(config.get("FORM_READ_MAX_PAGES") or defaults.max_pages),
        seconds=float(config.get("FORM_READ_SECONDS") or defaults.seconds))


def read_form_file(path: Path, kind: str, form: Form, bounds: ReadLimits | None = None) -> dict[str, Any]:
    """What a stored 申报书 says of the fields ``form`` (its application's round's) declares, as
    the JSON kept on its row. Raises only MemoryError (a limit of the process, for the job to
    report)."""
    started = time.monotonic()
    base = base_reading(kind)
    if kind not in READABLE_KINDS:
        return unsupported_reading(kind)
    try:
        text = extract_text(path, kind, bounds or ReadLimits(), enough=past_the_figures, options=option_words(form))
        reading = read_form(text, form=form)
    except Unreadable as err:
        if err.status == "failed" and address_space_exhausted():
            raise MemoryError from err  # the document did not fit in the child's memory
        return {**base, "status": err.status, "message": err.message}
    except MemoryError:
        raise
    except Exception as err:  # a hostile or broken file must not break the job
        if address_space_exhausted():
            raise MemoryError from err
        log.exception("reading %s (%s) failed", path, kind)
        return {**base, "status": "failed", "message": FAILED_MESSAGE}
    return {**base, "status": "read", "seconds": round(time.monotonic() - started, 2), **reading.to_json()}
