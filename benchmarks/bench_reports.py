"""Reports: 附件3 PDF against WeasyPrint rendering a bare HTML table of the same rows (in the same
run), the roster of ~500 applications as Excel and as PDF, and the peak memory of each.

Run: .venv/bin/python benchmarks/bench_reports.py
"""
from __future__ import annotations

import io
import os
import shutil
import time
import tracemalloc
from html import escape

from _common import fill_applications, login, make_app, median_seconds, table
from pypdf import PdfReader
from weasyprint import HTML

from xkxl_intranet.applications.models import Application
from xkxl_intranet.auth.models import User
from xkxl_intranet.extensions import db
from xkxl_intranet.printing import render_pdf, render_print
from xkxl_intranet.reports.layouts import SUMMARY_HEADERS
from xkxl_intranet.reports.roster import build_roster, roster_pdf
from xkxl_intranet.reports.summary import build_summary, summary_pdf
from xkxl_intranet.reports.workbooks import roster_workbook, summary_workbook
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import current_round

PER_CITY = 24  # 21 × 24 = 504 applications
SUMMARY_RATIO_TARGET = 1.5
ROSTER_XLSX_TARGET = 1.5  # seconds, median


def bare_table_html(summary) -> str:
    """The same rows as a bare HTML table: no title, no page set-up, no borders; only the CJK
    font named (otherwise the glyphs would come from whatever fontconfig falls back to)."""
    rows = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row.cells) + "</tr>"
                   for row in summary.rows)
    head = "".join(f"<th>{escape(h)}</th>" for h in SUMMARY_HEADERS)
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            "<style>body { font-family: 'Noto Serif CJK SC' }</style></head>"
            f"<body><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


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
            before = _status_kb("VmRSS")
            tracemalloc.start()
            fn()
            heap = tracemalloc.get_traced_memory()[1] / 1048576
            tracemalloc.stop()
            rss = (_status_kb("VmHWM") - before) / 1024
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
    """成都's applications all 初审通过 (a full 附件3) and province marks spread over the rest."""
    with app.app_context():
        chengdu = db.session.scalar(db.select(City).where(City.code == "510100"))
        db.session.execute(db.update(Application).where(Application.city_id == chengdu.id)
                           .values(review_state="passed"))
        marks = ("recommended", "cultivation", "not_selected", None)
        for n, application in enumerate(db.session.scalars(db.select(Application).order_by(Application.id))):
            application.province_mark = marks[n % 4]
        db.session.commit()
        return db.session.scalar(db.select(db.func.count()).select_from(Application)), chengdu.id


def _summary_figures(province, round_, chengdu, rows, verdicts):
    """附件3 PDF vs a bare table, interleaved in the same run so that load affects both alike
    (and, for comparison, our page with WeasyPrint's complete user-agent stylesheet)."""
    summary = build_summary(province, round_, chengdu)
    bare = bare_table_html(summary)
    summary_html = render_print("reports/summary_print.html", summary=summary, headers=SUMMARY_HEADERS)
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


def _roster_figures(province, round_, total, rows, verdicts) -> int:
    """The roster of ~500 applications as Excel and PDF, and the shorter 推荐名单; its page count."""
    roster = build_roster(province, round_, "all")
    assert len(roster.entries) == total
    xlsx_seconds = median_seconds(lambda: roster_workbook(build_roster(province, round_, "all")), 5)
    rows.append((f"roster xlsx ({total} applications, 4 sheets, with query)", f"{xlsx_seconds * 1000:.0f}",
                 peak_mb(lambda: roster_workbook(build_roster(province, round_, "all")))))
    verdicts.append((f"roster xlsx, {total} applications", f"{xlsx_seconds:.2f} s",
                     f"≤ {ROSTER_XLSX_TARGET} s", "PASS" if xlsx_seconds <= ROSTER_XLSX_TARGET else "FAIL"))
    pdf_seconds = median_seconds(lambda: roster_pdf(build_roster(province, round_, "all")), 3)
    pages = len(PdfReader(io.BytesIO(roster_pdf(roster))).pages)
    rows.append((f"roster PDF ({total} applications, A4 landscape)", f"{pdf_seconds * 1000:.0f}",
                 peak_mb(lambda: roster_pdf(build_roster(province, round_, "all")))))
    recommended = build_roster(province, round_, "recommended")
    small_seconds = median_seconds(lambda: roster_pdf(build_roster(province, round_, "recommended")), 3)
    rows.append((f"推荐名单 PDF ({len(recommended.entries)} applications)", f"{small_seconds * 1000:.0f}",
                 peak_mb(lambda: roster_pdf(build_roster(province, round_, "recommended")))))
    return pages


def main() -> None:
    app, instance = make_app()
    fill_applications(app, PER_CITY)
    total, city_id = _prepare(app)

    rows, verdicts = [], []
    with app.app_context():  # the services take the acting user: no request, no log-in
        province = db.session.scalar(db.select(User).where(User.username == "province"))
        round_ = current_round()
        passed = _summary_figures(province, round_, db.session.get(City, city_id), rows, verdicts)
        pages = _roster_figures(province, round_, total, rows, verdicts)

    # through HTTP, as the province downloads them
    client = login(app, "province")
    for url in ("/reports/roster/all.xlsx", f"/reports/cities/{city_id}/summary.pdf"):
        assert client.get(url).status_code == 200, url
        seconds = median_seconds(lambda u=url: client.get(u), 5)
        rows.append((f"GET {url}", f"{seconds * 1000:.0f}", ""))

    print(f"Reports: {total} applications in 21 cities (SQLite, in-process); 成都 has {passed} on its 附件3")
    print(table(rows, ("what", "median ms", "peak MB: Python heap / RSS added")))
    print(f"\nroster PDF: {pages} pages; the download link shows “正在生成… n 秒” while it is "
          "generated (static/js/reports.js)")
    print()
    print(table(verdicts, ("check", "measured", "target", "verdict")))
    shutil.rmtree(instance, ignore_errors=True)
    if any(v[-1] == "FAIL" for v in verdicts):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
