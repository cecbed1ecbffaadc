"""PDFs are made by the job worker, in a child with limits (print_job.py): the serving processes
never hold WeasyPrint's memory, and a print too large for its limits fails alone."""
from __future__ import annotations

import io
import signal

import pytest
from pypdf import PdfReader

from xkxl_intranet import printing
from xkxl_intranet.print_job import PrintFailed, warm_up

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


def test_a_print_runs_in_a_child_within_its_limits(app):
    app.config.update(PRINT_IN_WORKER=True, JOBS_ISOLATE=True)  # jobs inline, as a worker runs them
    warm_up()  # as the worker does before it forks
    # RLIMIT_AS counts what the child inherits: a test process holds more than a worker (~300 MB)
    enough = _address_space_mb() + 400
    app.config["RENDER_MEMORY_MB"] = enough
    with app.app_context():
        assert "成都市经济和信息化局" in _text(printing.render_pdf(HTML))
        # 25 MB more than the process holds: a table of 10,000 rows needs far more
        app.config["RENDER_MEMORY_MB"] = _address_space_mb() + 25
        rows = "".join(f"<tr><td>{n}</td><td>四川某某科技有限公司{n}</td></tr>" for n in range(10_000))
        with pytest.raises(PrintFailed, match="超出处理限度（memory）"):
            printing.render_pdf(f"<table>{rows}</table>")
        app.config["RENDER_MEMORY_MB"] = enough
        assert printing.render_pdf(HTML).startswith(b"%PDF")  # this process is not affected
