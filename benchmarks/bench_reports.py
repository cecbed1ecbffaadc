"""Reports, each against a bare anchor measured side by side in the same run:

- 附件3 PDF against WeasyPrint rendering a bare HTML table of the same rows;
- the roster's Excel (504 and 2,016 applications, 4 sheets) against a normal-mode openpyxl write of
  the same cells with no style (target ≤ 2×);
- the roster's PDF against WeasyPrint rendering a bare table of the same cells with the same font
  and size, page margins and fixed column widths (a bare table at WeasyPrint's defaults prints
  8× the pages, so it is no fair anchor), and a repeated download of unchanged data (cached);
- the peak memory of each.

Run: .venv/bin/python benchmarks/bench_reports.py
"""
from __future__ import annotations

import gc
import io
import os
import shutil
import time
import tracemalloc
from html import escape

from _common import fill_applications, login, make_app, median_seconds, status_kb, table
from openpyxl import Workbook
from pypdf import PdfReader
from weasyprint import HTML

from xkxl_intranet.applications.models import Application
from xkxl_intranet.auth.models import User
from xkxl_intranet.extensions import db
from xkxl_intranet.print_widths import CODE_FONT
from xkxl_intranet.printing import render_pdf, render_print
from xkxl_intranet.reports.roster import build_roster, roster_pdf
from xkxl_intranet.reports.summary import build_summary, summary_pdf
from xkxl_intranet.reports.workbooks import roster_workbook, summary_workbook
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import batch_for_write, current_round

PER_CITY = 24  # 21 × 24 = 504 applications
LARGE_PER_CITY = 96  # 21 × 96 = 2,016 applications (the roster's Excel only)
SUMMARY_RATIO_TARGET = 1.5
ROSTER_XLSX_RATIO_TARGET = 2.0  # × a normal-mode openpyxl write of the same cells
ROSTER_PDF_RATIO_TARGET = 1.2  # × a bare table with the same font size, margins and widths


def bare_table_html(summary) -> str:
    """The same rows as a bare HTML table: no title, no page set-up, no borders; only the CJK
    font named (otherwise the glyphs would come from whatever fontconfig falls back to)."""
    rows = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row.cells) + "</tr>"
                   for row in summary.rows)
    head = "".join(f"<th>{escape(h)}</th>" for h in summary.headers)
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            "<style>body { font-family: 'Noto Serif CJK SC' }</style></head>"
            f"<body><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>")


def peak_mb(fn) -> str:
    """Memory of one run of ``fn``, in a forked child so that the parent's figures do not mix in:
    the Python heap's peak (tracemalloc) and the resident size added at the peak (VmHWM, which
    includes the C allocations of Pango/HarfBuzz but not memory the parent had already freed)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        try:
            db.engine.dispose(close=False)  # its own database connections
            before = status_kb("VmRSS")
            tracemalloc.start()
            fn()
            heap = tracemalloc.get_traced_memory()[1] / 1048576
            tracemalloc.stop()
            rss = (status_kb("VmHWM") - before) / 1024
            os.write(write, f"{heap:.1f} / {rss:.1f}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        result = pipe.read()
    os.waitpid(pid, 0)
    return result or "?"


def once_seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _prepare(app) -> tuple[int, int]:
    """After the deadline: every city reported, every application 初审通过 (the roster counts them
    all; 成都's 附件3 is full), and province marks spread over them."""
    with app.app_context():
        chengdu = db.session.scalar(db.select(City).where(City.code == "510100"))
        db.session.execute(db.update(Application).values(review_state="passed"))
        round_ = current_round()
        for city in db.session.scalars(db.select(City)):
            batch_for_write(round_.id, city.id).state = "reported"
        marks = ("recommended", "cultivation", "not_selected", None)
        for n, application in enumerate(db.session.scalars(db.select(Application).order_by(Application.id))):
            application.province_mark = marks[n % 4]
        db.session.commit()
        return db.session.scalar(db.select(db.func.count()).select_from(Application)), chengdu.id


def interleaved(calls: dict, repeat: int) -> dict:
    """Median seconds of each call, taking turns so that the machine's load weighs on all alike;
    the garbage left by the previous call is collected first, so that no call pays for another's
    (with two rounds' data in the process, that alone moved the Excel ratio from 0.7× to 1.9×)."""
    samples = {key: [] for key in calls}
    for _ in range(repeat):
        for key, fn in calls.items():
            gc.collect()
            samples[key].append(once_seconds(fn))
    return {key: sorted(values)[len(values) // 2] for key, values in samples.items()}


def bare_workbook(roster) -> bytes:
    """The anchor: the same cells in the same sheets, written by openpyxl in normal mode with no
    style, no merged title, no print set-up."""
    wb = Workbook()
    for index, sheet in enumerate(roster.sheets):
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = sheet.name
        for row_number, values in enumerate(sheet.rows(), start=4):
            for column, value in enumerate(values, start=1):
                ws.cell(row=row_number, column=column, value=value)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def matched_roster_html(roster) -> str:
    """The anchor for the roster's PDF: the same cells as printed (same text) laid out the same
    way: fonts (a code's monospaced) and size, line height, page size and margins, fixed column
    widths, cell padding and ruled borders, long words wrapped, so that it fills as many pages.
    Nothing else: no title, no heading row repeated on each page, no page footers, no alignments,
    no user-agent defaults beyond WeasyPrint's own."""
    widths = "".join(f"<col style='width: {c.print_width}%'>" for c in roster.columns)
    body = "".join("<tr>" + "".join(f"<td{' class=m' if c.kind == 'code' else ''}>{escape(c.text(v))}</td>"
                                    for c, v in zip(roster.columns, row, strict=True)) + "</tr>"
                   for row in roster.sheets[0].rows())
    return ("<!doctype html><html><head><meta charset='utf-8'><style>"
            "@page { size: A4 landscape; margin: 12mm 9mm 14mm 9mm }"
            "body { margin: 0; font-family: 'Noto Sans CJK SC', sans-serif; font-size: 7.5pt; line-height: 1.3 }"
            f".m {{ font-family: '{CODE_FONT}', monospace }}"
            "table { width: 100%; table-layout: fixed; border-collapse: collapse }"
            "td { border: 0.5pt solid #000; padding: 0.7mm 0.9mm; overflow-wrap: anywhere }</style></head>"
            f"<body><table><colgroup>{widths}</colgroup><tbody>{body}</tbody></table></body></html>")


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _summary_figures(province, round_, chengdu, rows, verdicts):
    """附件3 PDF vs a bare table, interleaved in the same run so that load affects both alike
    (and, for comparison, our page with WeasyPrint's complete user-agent stylesheet)."""
    summary = build_summary(province, round_, chengdu)
    bare = bare_table_html(summary)
    summary_html = render_print("reports/summary_print.html", summary=summary)
    summary_pdf(summary)
    HTML(string=bare).write_pdf()
    ours, theirs, default_ua = [], [], []
    for _ in range(9):
        ours.append(once_seconds(lambda: summary_pdf(summary)))
        theirs.append(once_seconds(lambda: HTML(string=bare).write_pdf()))
        default_ua.append(once_seconds(lambda: render_pdf(summary_html, lean=False)))
    ours_median, bare_median, default_median = (sorted(x)[4] for x in (ours, theirs, default_ua))
    ratio = ours_median / bare_median
    rows.append((f"附件3 PDF ({len(summary.rows)} rows)", f"{ours_median * 1000:.0f}",
                 peak_mb(lambda: summary_pdf(summary))))
    rows.append((f"附件3 PDF, WeasyPrint's default UA stylesheet ({default_median / bare_median:.2f}× bare)",
                 f"{default_median * 1000:.0f}", ""))
    rows.append((f"bare HTML table PDF ({len(summary.rows)} rows)", f"{bare_median * 1000:.0f}",
                 peak_mb(lambda: HTML(string=bare).write_pdf())))
    verdicts.append(("附件3 PDF / bare table", f"{ratio:.2f}×", f"≤ {SUMMARY_RATIO_TARGET}×",
                     "PASS" if ratio <= SUMMARY_RATIO_TARGET else "FAIL"))
    seconds = median_seconds(lambda: summary_workbook(build_summary(province, round_, chengdu)), 9)
    rows.append((f"附件3 xlsx ({len(summary.rows)} rows, with query)", f"{seconds * 1000:.0f}",
                 peak_mb(lambda: summary_workbook(build_summary(province, round_, chengdu)))))
    return len(summary.rows)


def _roster_xlsx_figures(apps: dict, rows: list, verdicts: list) -> None:
    """The roster's Excel against the bare write of the same cells, at each size, in turns."""
    calls, rosters = {}, {}
    for total, (app, province_id) in apps.items():
        with app.app_context():
            province = db.session.get(User, province_id)
            roster = build_roster(province, current_round(), "all")
            assert len(roster.entries) == total, (len(roster.entries), total)
            rosters[total] = roster
            cells = sum(len(sheet.entries) * len(roster.columns) for sheet in roster.sheets)
            calls[(total, "ours")] = lambda r=roster: roster_workbook(r)
            calls[(total, "bare")] = lambda r=roster: bare_workbook(r)
            calls[(total, "query")] = lambda p=province: build_roster(p, current_round(), "all")
            rosters[(total, "cells")] = cells
    times, peaks = {}, {}
    for total, (app, _) in apps.items():
        with app.app_context():
            times.update(interleaved({k: f for k, f in calls.items() if k[0] == total}, 5))
            peaks[total] = peak_mb(calls[(total, "ours")])
    for total in apps:
        ratio = times[(total, "ours")] / times[(total, "bare")]
        rows.append((f"roster xlsx ({total} applications, 4 sheets, {rosters[(total, 'cells')]:,} cells)",
                     f"{times[(total, 'ours')] * 1000:.0f}", peaks[total]))
        rows.append(("  bare openpyxl write of the same cells (normal mode, no style)",
                     f"{times[(total, 'bare')] * 1000:.0f}", ""))
        rows.append((f"  the roster's query ({total} applications)", f"{times[(total, 'query')] * 1000:.0f}", ""))
        verdicts.append((f"roster xlsx / bare write, {total} applications", f"{ratio:.2f}×",
                         f"≤ {ROSTER_XLSX_RATIO_TARGET:g}×", "PASS" if ratio <= ROSTER_XLSX_RATIO_TARGET else "FAIL"))


def _roster_pdf_figures(province, round_, total, rows, verdicts) -> int:
    """The roster's PDF against the matched bare table, in turns; and the shorter 推荐名单."""
    roster = build_roster(province, round_, "all")
    matched = matched_roster_html(roster)
    times = interleaved({"ours": lambda: roster_pdf(roster), "bare": lambda: HTML(string=matched).write_pdf()}, 3)
    ours_pages, bare_pages = pages(roster_pdf(roster)), pages(HTML(string=matched).write_pdf())
    rows.append((f"roster PDF ({total} applications, A4 landscape, {ours_pages} pages)",
                 f"{times['ours'] * 1000:.0f}", peak_mb(lambda: roster_pdf(roster))))
    rows.append((f"  bare table, same font size, margins and widths ({bare_pages} pages)",
                 f"{times['bare'] * 1000:.0f}", peak_mb(lambda: HTML(string=matched).write_pdf())))
    ratio = times["ours"] / times["bare"]
    verdicts.append((f"roster PDF / matched bare table, {total} applications", f"{ratio:.2f}×",
                     f"≤ {ROSTER_PDF_RATIO_TARGET:g}×", "PASS" if ratio <= ROSTER_PDF_RATIO_TARGET else "FAIL"))
    recommended = build_roster(province, round_, "recommended")
    small_seconds = median_seconds(lambda: roster_pdf(build_roster(province, round_, "recommended")), 3)
    rows.append((f"推荐名单 PDF ({len(recommended.entries)} applications)", f"{small_seconds * 1000:.0f}",
                 peak_mb(lambda: roster_pdf(build_roster(province, round_, "recommended")))))
    return ours_pages


def _downloads(app, city_id: int, rows: list, verdicts: list) -> None:
    """Through HTTP, as the province downloads them: the first click makes the file, a repeated
    click on unchanged data is answered from the cache."""
    client = login(app, "province")
    for url in ("/reports/roster/all.pdf", "/reports/roster/all.xlsx"):
        cache = app.extensions.get("xkxl_generated")  # the generated files (generated.py)
        if cache is not None:
            cache.clear()
        first = once_seconds(lambda u=url: client.get(u))
        again = median_seconds(lambda u=url: client.get(u), 5)
        rows.append((f"GET {url}: first / repeated (cache)", f"{first * 1000:.0f} / {again * 1000:.1f}", ""))
        if url.endswith(".pdf"):
            verdicts.append(("repeated roster PDF download, unchanged data", f"{again * 1000:.1f} ms",
                             "≤ 100 ms", "PASS" if again <= 0.1 else "FAIL"))
    url = f"/reports/cities/{city_id}/summary.pdf"
    seconds = median_seconds(lambda: client.get(url), 5)
    rows.append((f"GET {url} (repeated: the generated file)", f"{seconds * 1000:.1f}", ""))


def main() -> None:
    app, instance = make_app()
    fill_applications(app, PER_CITY)
    total, city_id = _prepare(app)
    large_app, large_instance = make_app()
    fill_applications(large_app, LARGE_PER_CITY)
    large_total, _ = _prepare(large_app)

    rows, verdicts = [], []
    with app.app_context():  # the services take the acting user: no request, no log-in
        province = db.session.scalar(db.select(User).where(User.username == "province"))
        round_ = current_round()
        passed = _summary_figures(province, round_, db.session.get(City, city_id), rows, verdicts)
        province_id = province.id
    with large_app.app_context():
        large_province_id = db.session.scalar(db.select(User.id).where(User.username == "province"))
    _roster_xlsx_figures({total: (app, province_id), large_total: (large_app, large_province_id)}, rows,
                         verdicts)
    with app.app_context():
        province = db.session.get(User, province_id)
        roster_pages = _roster_pdf_figures(province, current_round(), total, rows, verdicts)
    _downloads(app, city_id, rows, verdicts)

    print(f"Reports: {total} (and {large_total}) applications in 21 cities, all reported (SQLite, in-process); "
          f"成都 has {passed} on its 附件3; anchors measured in turns with ours")
    print(table(rows, ("what", "median ms", "peak MB: Python heap / RSS added")))
    print(f"\nroster PDF: {roster_pages} pages; the download link shows “正在生成… n 秒” while it is "
          "generated (static/js/reports.js), and a repeated download of unchanged data is cached")
    print()
    print(table(verdicts, ("check", "measured", "target", "verdict")))
    shutil.rmtree(instance, ignore_errors=True)
    shutil.rmtree(large_instance, ignore_errors=True)
    if any(v[-1] == "FAIL" for v in verdicts):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
