"""Reading the 申报书, a job since issue 20: what an upload costs now (stored, hashed, queued) and
what the worker's reading costs, and its bounds on hostile files.

Measured side by side in one run (medians of several runs; the machine is shared):
- storing a filled .docx 申报书 (the template, ~40 KB) and a 10-page text PDF as the upload does
  (the reading queued in the instance's SQLite queue) vs. the reading the worker then does in its
  limited child process (fork included);
- a PDF's text as the reading takes it (PDFium's positions rebuilt into lines and table rows,
  ``files/pdf_layout.py``) against pypdf's extraction in drawing order (what it used before), the
  same files in turns: the 10-page 申报书 and 100 pages of plain Helvetica lines;
- hostile files, each read with the default limits: a .docx whose document part unpacks to
  100 MB (a ZIP bomb), a .docx with 300 MB of embedded "images", a 200-page PDF; wall time and
  Python heap peak (tracemalloc), against the time budget (15 s) — a bound holds if the time
  stays well under it and the heap stays flat; and the issue's attacks under the worker's limits
  (512 MB, 20 s CPU, 30 s): a one-page PDF of 3.5 million glyphs, a .docx whose XML expands to 28 MB
  (time until the child is ended, and what the reading says);
- the glyph page read in the worker's limited child without and with the bound on what PDFium
  holds for a page's drawing (``ReadLimits.max_page_memory``: the page refused before PDFium
  builds its text page), in turns: the child's peak memory (``ru_maxrss``), what it added to the
  memory it was forked with, and its time.

Prints a table; not a test. Run: .venv/bin/python benchmarks/bench_form_reading.py
"""
from __future__ import annotations

import io
import os
import pickle
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_app  # noqa: E402
from pypdf import PdfReader, PdfWriter  # noqa: E402
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject  # noqa: E402

from xkxl_intranet.applications.demo import figures  # noqa: E402
from xkxl_intranet.applications.materials import store_bytes  # noqa: E402
from xkxl_intranet.applications.models import Application  # noqa: E402
from xkxl_intranet.applications.operations import save_application  # noqa: E402
from xkxl_intranet.applications.reading_job import job_limits, read_isolated  # noqa: E402
from xkxl_intranet.auth.models import User  # noqa: E402
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.credit_code import make_credit_code  # noqa: E402
from xkxl_intranet.domain.form_layout import form_blocks, texts_for  # noqa: E402
from xkxl_intranet.domain.parsing import parse_input  # noqa: E402
from xkxl_intranet.extensions import db  # noqa: E402
from xkxl_intranet.files.form_reading import read_form_file  # noqa: E402
from xkxl_intranet.files.form_template import form_docx  # noqa: E402
from xkxl_intranet.files.form_text import ReadLimits, extract_text  # noqa: E402
from xkxl_intranet.files.models import StoredFile  # noqa: E402
from xkxl_intranet.files.storage import path_for  # noqa: E402
from xkxl_intranet.jobs.limits import LimitExceeded, run_limited  # noqa: E402
from xkxl_intranet.printing import print_pdf  # noqa: E402
from xkxl_intranet.rounds.state import current_round  # noqa: E402

RUNS = 7
MB = 1024 * 1024


def _application(app):
    with app.app_context():
        clerk = db.session.scalar(db.select(User).where(User.username == "chengdu"))
        values = {k: v if isinstance(v, list) else str(v) for k, v in figures(2).items()}
        values.update(enterprise_name="四川基准测试有限公司", credit_code=make_credit_code("510100", "MA6BENCH"),
                      contact_name="张三", contact_mobile="13800001234", platform_name="基准测试平台")
        application, _ = save_application(clerk, None, parse_input(values, FORM_2022.fields), city=clerk.city, round_=current_round(),
                                          expected_version=None)
        db.session.commit()
        texts = texts_for(application.values(), form=FORM_2022)
        return application.id, form_docx(form_blocks(texts, form=FORM_2022)), print_pdf(
            "applications/form_print.html", blocks=form_blocks(texts, form=FORM_2022), title="申报书", demo=False)


def _upload_and_reading(app, application_id: int, data: bytes, name: str) -> tuple[float, float]:
    """Medians of the upload (store, hash, queue the reading; commit) and of the worker's reading
    of the stored file in its limited child, in turns."""
    uploads, readings = [], []
    with app.app_context():
        clerk = db.session.scalar(db.select(User).where(User.username == "chengdu"))
        for _ in range(RUNS):
            application = db.session.get(Application, application_id)
            started = time.perf_counter()
            stored = store_bytes(clerk, data, name, category="form", application=application)
            db.session.commit()
            uploads.append(time.perf_counter() - started)
            stored = db.session.get(StoredFile, stored.id)
            started = time.perf_counter()
            reading, _ = read_isolated(path_for(stored.storage_name), stored.kind, app.config)
            readings.append(time.perf_counter() - started)
            assert reading["status"] == "read", reading
    return statistics.median(uploads), statistics.median(readings)


def _upload_costs(app) -> list[tuple[str, float, float]]:
    application_id, docx_bytes, pdf_bytes = _application(app)
    rows = []
    for label, data, name in ((f"申报书 .docx（{len(docx_bytes) // 1024} KB）", docx_bytes, "申报书.docx"),
                              (f"申报书 PDF（10页，{len(pdf_bytes) // 1024} KB）", pdf_bytes, "申报书.pdf")):
        rows.append((label, *_upload_and_reading(app, application_id, data, name)))
    return rows


def _bomb(folder: Path) -> Path:
    template = zipfile.ZipFile(io.BytesIO(form_docx(form_blocks({}, form=FORM_2022))))
    path = folder / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in template.infolist():
            if info.filename == "word/document.xml":
                with out.open(info.filename, "w", force_zip64=True) as handle:
                    for _ in range(100):
                        handle.write(b" " * MB)
            else:
                out.writestr(info, template.read(info))
    return path


def _embedded(folder: Path) -> Path:
    path = folder / "images.docx"
    path.write_bytes(form_docx(form_blocks({}, form=FORM_2022)))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as out:
        for n in range(3):
            with out.open(f"word/media/image{n}.png", "w", force_zip64=True) as handle:
                for _ in range(100):
                    handle.write(bytes(MB))
    return path


def _long_pdf(folder: Path, pages: int) -> Path:
    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    for number in range(pages):
        page = writer.add_blank_page(595, 842)
        stream = DecodedStreamObject()
        stream.set_data(b"BT /F1 10 Tf " + b"".join(
            f"72 {800 - 12 * line} Td (Line {line} of page {number}: 12,345 units) Tj ".encode()
            for line in range(50)) + b"ET")
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    path = folder / "long.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def _hostile(app) -> list[tuple[str, str, float, float]]:
    folder = Path(tempfile.mkdtemp(prefix="xkxl-bench-forms-"))
    cases = (("ZIP炸弹（正文解压后100 MB）", _bomb(folder), "docx"),
             ("嵌入300 MB图片的 .docx", _embedded(folder), "docx"),
             ("200页PDF", _long_pdf(folder, 200), "pdf"))
    rows = []
    with app.app_context():
        for label, path, kind in cases:
            tracemalloc.start()
            started = time.perf_counter()
            result = read_form_file(path, kind, FORM_2022, ReadLimits())
            seconds = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] / MB
            tracemalloc.stop()
            outcome = result["status"] + (f"（{result.get('truncated') or result.get('message', '')}）"
                                          if result.get("truncated") or result["status"] != "read" else "")
            rows.append((label, outcome[:60], seconds, peak))
    return rows


def _attacks(app) -> list[tuple[str, str, float]]:
    """The issue's attacks, read as the worker reads them (in a child within its limits)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "jobs"))
    from hostile import expanding_docx, glyph_pdf  # the tests' own hostile files

    folder = Path(tempfile.mkdtemp(prefix="xkxl-bench-attacks-"))
    rows = []
    for label, data, kind in (("PDF：一页350万字符（51 KB）", glyph_pdf(3_500_000), "pdf"),
                              (".docx：XML展开为28 MB（80 KB）", expanding_docx(800_000), "docx")):
        path = folder / f"attack.{kind}"
        path.write_bytes(data)
        started = time.perf_counter()
        reading, state = read_isolated(path, kind, app.config)
        rows.append((label, f"{state.value}：{reading.get('message', reading['status'])[:40]}",
                     time.perf_counter() - started))
    return rows


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def _reading_peak(path: Path, bounds: ReadLimits, config) -> tuple[str, float, float, float]:
    """What the reading says, its time, its child's peak memory and what the child inherited
    (MB; the RSS it was forked with, shared copy-on-write): the limited child is forked from a
    process of its own, so that ``RUSAGE_CHILDREN`` holds that child alone."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        inherited = _rss_mb()
        started = time.perf_counter()
        try:
            reading = run_limited(read_form_file, path, "pdf", FORM_2022, bounds, limits=job_limits(config))
            outcome = f"{reading['status']}：{reading.get('message', '')[:30]}"
        except LimitExceeded as over:
            outcome = f"ended at its limit: {over}"
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        os.write(writer, pickle.dumps((outcome, seconds, peak, inherited)))
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as answer:
        result = pickle.loads(answer.read())
    os.waitpid(pid, 0)
    return result


def _glyph_bound(app) -> list[tuple[str, list[tuple[str, float, float, float]]]]:
    """The glyph page in the limited child, without the bound on a page's drawing (as before) and
    with it, in turns; the medians of three runs each, and what the reading said."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "jobs"))
    from hostile import glyph_pdf

    path = Path(tempfile.mkdtemp(prefix="xkxl-bench-glyphs-")) / "glyphs.pdf"
    path.write_bytes(glyph_pdf(3_500_000))
    cases = (("不设绘制内存上限（改前）", ReadLimits(max_page_memory=1 << 62)), ("绘制内存上限 3 MB（现在）", ReadLimits()))
    runs: dict[str, list[tuple[str, float, float, float]]] = {label: [] for label, _ in cases}
    for _ in range(3):
        for label, bounds in cases:
            runs[label].append(_reading_peak(path, bounds, app.config))
    return list(runs.items())


def _drawing_order(path: Path, pages: int) -> list[str]:
    reader = PdfReader(path)
    return [line for page in reader.pages[:pages] for line in (page.extract_text() or "").splitlines()]


def _text_costs(app) -> list[tuple[str, float, float]]:
    folder = Path(tempfile.mkdtemp(prefix="xkxl-bench-text-"))
    _, _, pdf_bytes = _application(app)
    form = folder / "form.pdf"
    form.write_bytes(pdf_bytes)
    rows = []
    for label, path, pages in (("申报书 PDF（10页）", form, 10), ("100页 Helvetica 文本", _long_pdf(folder, 100), 100)):
        positions, drawing = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            extract_text(path, "pdf", ReadLimits(seconds=60))
            positions.append(time.perf_counter() - started)
            started = time.perf_counter()
            _drawing_order(path, pages)
            drawing.append(time.perf_counter() - started)
        rows.append((label, statistics.median(positions), statistics.median(drawing)))
    return rows


def main() -> None:
    app, _ = make_app()
    print("== 上传申报书（保存、校验、排队读取）与后台读取（受限子进程），轮流测量（中位数）")
    for label, upload, reading in _upload_costs(app):
        print(f"{label:<24} 上传 {upload * 1000:7.1f} ms   后台读取 {reading * 1000:7.1f} ms")
    print("== PDF文字：按位置重建（PDFium）与按绘制顺序（pypdf），轮流测量（中位数）")
    for label, positions, drawing in _text_costs(app):
        print(f"{label:<24} 按位置 {positions * 1000:7.1f} ms   按绘制顺序 {drawing * 1000:7.1f} ms   "
              f"比值 {positions / drawing:5.2f}×")
    print(f"== 恶意文件（时间预算 {ReadLimits().seconds:g} s）")
    for label, outcome, seconds, peak in _hostile(app):
        print(f"{label:<24} {seconds:6.2f} s   Python 堆峰值 {peak:6.1f} MB   {outcome}")
    print("== 恶意文件，按后台任务的限度读取（512 MB，CPU 20 s，30 s）")
    for label, outcome, seconds in _attacks(app):
        print(f"{label:<28} {seconds:6.2f} s   {outcome}")
    print("== 一页350万字符的PDF，后台任务的受限子进程：改前与现在轮流读取（3次中位数）")
    for label, runs in _glyph_bound(app):
        seconds = statistics.median(run[1] for run in runs)
        peak = statistics.median(run[2] for run in runs)
        growth = statistics.median(run[2] - run[3] for run in runs)
        print(f"{label:<24} {seconds:6.2f} s   子进程内存峰值 {peak:4.0f} MB（比分叉时多 {growth:4.0f} MB）   {runs[0][0]}")


if __name__ == "__main__":
    main()
