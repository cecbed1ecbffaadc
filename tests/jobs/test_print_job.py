"""PDFs are made by the job worker, in a child with limits (print_job.py): the serving processes
never hold WeasyPrint's memory, and a print too large for its limits fails alone."""
from __future__ import annotations

import io
import signal

import pytest
from pypdf import PdfReader

from xkxl_intranet import print_job, printing
from xkxl_intranet.print_job import PrintFailed

from .test_worker import _start_worker

HTML = "<h1 style=\"font-family: 'Noto Sans CJK SC'\">推荐信息汇总表</h1><p>成都市经济和信息化局</p>"


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_with_print_in_worker_the_worker_makes_the_pdf(app, instance, monkeypatch):
    def not_here(*args, **kwargs):
        raise AssertionError("the PDF was made in the web process")

    monkeypatch.setattr(printing, "write_pdf", not_here)
    app.config.update(PRINT_IN_WORKER=True)
    worker = _start_worker(app, instance)
    try:
        with app.app_context():
            data = printing.render_pdf(HTML)
        assert data.startswith(b"%PDF") and "推荐信息汇总表" in _text(data)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(15)


def test_without_it_commands_and_tests_print_here(app, monkeypatch):
    made = []
    monkeypatch.setattr(printing, "write_pdf", lambda *args: made.append(args) or b"%PDF-here")
    with app.app_context():
        assert printing.render_pdf(HTML) == b"%PDF-here"
    assert made == [(HTML, None, True)]


def _address_space_mb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmSize:"))


def _greedy_writer(html, base_url=None, lean=True):
    """A print that needs more memory than it may have, failing the way WeasyPrint's C libraries
    do at the limit (an error of their own, not MemoryError)."""
    held = []
    try:
        while True:
            held.append(bytearray(16 * 1024 * 1024))
    except MemoryError:
        raise SystemError("error return without exception set") from None


def test_a_print_runs_in_a_child_within_its_limits(app, monkeypatch):
    app.config.update(PRINT_IN_WORKER=True, JOBS_ISOLATE=True)  # jobs inline, as a worker runs them
    # RLIMIT_AS counts what the child inherits: a test process holds more than a worker (~300 MB)
    app.config["RENDER_MEMORY_MB"] = _address_space_mb() + 400
    with app.app_context():
        assert "成都市经济和信息化局" in _text(printing.render_pdf(HTML))
        with monkeypatch.context() as patch:
            patch.setattr(print_job, "write_pdf", _greedy_writer)  # forked with the child
            with pytest.raises(PrintFailed, match="超出处理限度（memory）"):
                printing.render_pdf(HTML)
        assert printing.render_pdf(HTML).startswith(b"%PDF")  # this process is not affected
