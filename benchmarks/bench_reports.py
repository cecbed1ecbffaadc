"""Reports: 附件3 PDF against WeasyPrint rendering a bare HTML table of the same rows (in the same
run), the roster of ~500 applications as Excel and as PDF, and the peak memory of each.

Run: .venv/bin/python benchmarks/bench_reports.py
"""
from __future__ import annotations

import io
import shutil
import time
import os
import tracemalloc
from html import escape

from _common import fill_applications, login, make_app, median_seconds, table

PER_CITY = 24  # 21 × 24 = 504 applications
SUMMARY_RATIO_TARGET = 1.5
ROSTER_XLSX_TARGET = 1.5  # seconds, median


def bare_table_html(summary) -> str:
    """The same rows as a bare HTML table: no title, no page set-up, no borders; only the CJK
    font named (otherwise the glyphs would come from whatever fontconfig falls back to)."""
    rows = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row.cells) + "</tr>"
                   for row in summary.rows)
    head = "".join(f"<th>{h}</th>" for h in ("序号", "工业互联网平台名称", "依托企业", "联系人", "联系方式（手机）"))
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
    from xkxl_intranet.extensions import db

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


def main() -> None:
    from flask_login import login_user
    from flask import render_template
    from pypdf import PdfReader
    from weasyprint import HTML

    from xkxl_intranet.auth.models import User

    from xkxl_intranet.applications.models import Application
    from xkxl_intranet.extensions import db
    from xkxl_intranet.reports.layouts import SUMMARY_HEADERS
    from xkxl_intranet.printing import render_pdf
    from xkxl_intranet.reports.routes import render_roster_pdf, render_summary_pdf
    from xkxl_intranet.reports.services import build_roster, build_summary
    from xkxl_intranet.reports.workbooks import roster_workbook, summary_workbook
    from xkxl_intranet.rounds.models import City
    from xkxl_intranet.rounds.services import current_round

    app, instance = make_app()
    fill_applications(app, PER_CITY)
    with app.app_context():
        chengdu = db.session.scalar(db.select(City).where(City.code == "510100"))
        db.session.execute(db.update(Application).where(Application.city_id == chengdu.id)
                           .values(review_state="passed"))
        marks = ("recommended", "cultivation", "not_selected", None)
        for n, application in enumerate(db.session.scalars(db.select(Application).order_by(Application.id))):
            application.province_mark = marks[n % 4]
        db.session.commit()
        total = db.session.scalar(db.select(db.func.count()).select_from(Application))
        city_id = chengdu.id

    rows = []
    verdicts = []
    with app.test_request_context("/"):
        # the reports are scoped to the user's city: work as province staff
        login_user(db.session.scalar(db.select(User).where(User.username == "province")))
        round_ = current_round()
        chengdu = db.session.get(City, city_id)
        summary = build_summary(round_, chengdu)
        bare = bare_table_html(summary)
        roster = build_roster(round_, "all")
        assert len(roster.entries) == total

        # 附件3 PDF vs a bare table, interleaved in the same run so that load affects both alike
        # (and, for comparison, our page with WeasyPrint's complete user-agent stylesheet)
        summary_html = render_template("reports/summary_print.html", summary=summary, headers=SUMMARY_HEADERS)
        render_summary_pdf(summary)
        HTML(string=bare).write_pdf()
        ours, theirs, default_ua = [], [], []
        for _ in range(9):
            ours.append(once_seconds(lambda: render_summary_pdf(summary)))
            theirs.append(once_seconds(lambda: HTML(string=bare).write_pdf()))
            default_ua.append(once_seconds(lambda: render_pdf(summary_html, lean=False)))
        ours_median, bare_median, default_median = (sorted(x)[4] for x in (ours, theirs, default_ua))
        ratio = ours_median / bare_median
        rows.append((f"附件3 PDF ({len(summary.rows)} rows)", f"{ours_median * 1000:.0f}",
                     peak_mb(lambda: render_summary_pdf(summary))))
        rows.append((f"附件3 PDF, WeasyPrint's default UA stylesheet ({default_median / bare_median:.2f}× bare)",
                     f"{default_median * 1000:.0f}", ""))
        rows.append((f"bare HTML table PDF ({len(summary.rows)} rows)", f"{bare_median * 1000:.0f}",
                     peak_mb(lambda: HTML(string=bare).write_pdf())))
        verdicts.append(("附件3 PDF / bare table", f"{ratio:.2f}×", f"≤ {SUMMARY_RATIO_TARGET}×",
                         "PASS" if ratio <= SUMMARY_RATIO_TARGET else "FAIL"))
        seconds = median_seconds(lambda: summary_workbook(build_summary(round_, chengdu)), 9)
        rows.append((f"附件3 xlsx ({len(summary.rows)} rows, with query)", f"{seconds * 1000:.0f}",
                     peak_mb(lambda: summary_workbook(build_summary(round_, chengdu)))))

        # the roster of ~500 applications
        xlsx_seconds = median_seconds(lambda: roster_workbook(build_roster(round_, "all")), 5)
        rows.append((f"roster xlsx ({total} applications, 4 sheets, with query)", f"{xlsx_seconds * 1000:.0f}",
                     peak_mb(lambda: roster_workbook(build_roster(round_, "all")))))
        verdicts.append((f"roster xlsx, {total} applications", f"{xlsx_seconds:.2f} s", f"≤ {ROSTER_XLSX_TARGET} s",
                         "PASS" if xlsx_seconds <= ROSTER_XLSX_TARGET else "FAIL"))
        pdf_seconds = median_seconds(lambda: render_roster_pdf(build_roster(round_, "all")), 3)
        pages = len(PdfReader(io.BytesIO(render_roster_pdf(roster))).pages)
        rows.append((f"roster PDF ({total} applications, A4 landscape)", f"{pdf_seconds * 1000:.0f}",
                     peak_mb(lambda: render_roster_pdf(build_roster(round_, "all")))))
        recommended = build_roster(round_, "recommended")
        small_seconds = median_seconds(lambda: render_roster_pdf(build_roster(round_, "recommended")), 3)
        rows.append((f"推荐名单 PDF ({len(recommended.entries)} applications)", f"{small_seconds * 1000:.0f}",
                     peak_mb(lambda: render_roster_pdf(build_roster(round_, "recommended")))))

    # through HTTP, as the province downloads them
    province = login(app, "province")
    for url in ("/reports/roster/all.xlsx", f"/reports/cities/{city_id}/summary.pdf"):
        assert province.get(url).status_code == 200, url
        seconds = median_seconds(lambda: province.get(url), 5)
        rows.append((f"GET {url}", f"{seconds * 1000:.0f}", ""))

    print(f"Reports: {total} applications in 21 cities (SQLite, in-process); 成都 has {len(summary.rows)} "
          "on its 附件3")
    print(table(rows, ("what", "median ms", "peak MB: Python heap / RSS added")))
    print(f"\nroster PDF: {pages} pages; the download link shows “正在生成… n 秒” while it is generated "
          "(static/js/reports.js)")
    print()
    print(table(verdicts, ("check", "measured", "target", "verdict")))
    shutil.rmtree(instance, ignore_errors=True)
    if any(v[-1] == "FAIL" for v in verdicts):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
