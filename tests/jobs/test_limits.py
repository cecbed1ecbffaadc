"""jobs/limits.py: the heavy part of a job runs in a forked child that is ended at its memory,
CPU or wall-clock limit, while the process that forked it carries on."""
from __future__ import annotations

import os
import time

import pytest

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.files.form_reading import read_form_file
from xkxl_intranet.jobs.limits import ChildFailed, LimitExceeded, Limits, run_limited

from .hostile import expanding_docx, glyph_pdf

SMALL = Limits(memory_mb=256, cpu_seconds=1, wall_seconds=3)


def _answer(n: int) -> dict:
    return {"pid": os.getpid(), "n": n * 2}


def _fail() -> None:
    raise ValueError("坏了")


def _spin() -> None:
    while True:
        pass


def _sleep() -> None:
    time.sleep(60)


def _allocate() -> bytes:
    return bytes(1024 * 1024 * 1024)


def test_the_answer_comes_back_from_another_process():
    answer = run_limited(_answer, 21, limits=SMALL)
    assert answer["n"] == 42 and answer["pid"] != os.getpid()


def test_an_exception_in_the_child_is_its_text():
    with pytest.raises(ChildFailed, match="ValueError: 坏了"):
        run_limited(_fail, limits=SMALL)


@pytest.mark.parametrize(("function", "reason"), [(_allocate, "memory"), (_spin, "cpu"), (_sleep, "time")])
def test_a_child_past_a_limit_is_ended_and_the_caller_carries_on(function, reason):
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as over:
        run_limited(function, limits=SMALL)
    assert over.value.reason == reason
    assert time.monotonic() - started < SMALL.wall_seconds + 2
    assert run_limited(_answer, 1, limits=SMALL)["n"] == 2  # the caller is fine


def test_a_page_of_millions_of_glyphs_is_refused_well_within_the_memory_limit(tmp_path):
    """The issue's 51 KB one-page PDF of 3.5 million glyphs: PDFium would take more than 700 MB
    to lay them out in its text page; the page is refused before (form_text's bound on what its
    drawing holds), so the child ends with a reading, far below its limit."""
    path = tmp_path / "glyphs.pdf"
    path.write_bytes(glyph_pdf(3_500_000))
    assert path.stat().st_size < 60_000
    reading = run_limited(read_form_file, path, "pdf", FORM_2022, limits=Limits(memory_mb=256, cpu_seconds=20, wall_seconds=20))
    assert (reading["status"], reading["message"]) == ("too_large", "1页内容过于复杂，无法自动读取")


def test_xml_that_expands_past_the_memory_limit_is_ended_as_such(tmp_path):
    """28 MB of document.xml in an 80 KB .docx: libxml2, refused memory, reports a syntax error
    ("unknown error"); the reading tells it apart from a broken file by the address space used."""
    path = tmp_path / "expanding.docx"
    path.write_bytes(expanding_docx(800_000))
    assert path.stat().st_size < 200_000
    with pytest.raises(LimitExceeded) as over:
        run_limited(read_form_file, path, "docx", FORM_2022, limits=Limits(memory_mb=300, cpu_seconds=20, wall_seconds=20))
    assert over.value.reason == "memory"


def test_many_dense_pages_are_ended_at_the_cpu_limit(tmp_path):
    """100 pages of 50,000 glyphs each (under the per-page bound): each glyph walked in Python."""
    path = tmp_path / "dense.pdf"
    path.write_bytes(glyph_pdf(50_000, pages=100))
    with pytest.raises(LimitExceeded) as over:
        run_limited(read_form_file, path, "pdf", FORM_2022, limits=Limits(memory_mb=1024, cpu_seconds=1, wall_seconds=20))
    assert over.value.reason == "cpu"
