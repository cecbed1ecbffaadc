"""Applications list, page and save: SQL queries per request must not grow with the number of
applications, and the province's 全部申报 list (paged, same filters and order) must stay within
2× of its time at 105 applications when the round holds 2,016. Times are relative to a bare Flask
route of the same app, measured in the same run.

Run: .venv/bin/python benchmarks/bench_applications.py
"""
from __future__ import annotations

import shutil
import statistics
import time

from _common import fill_applications, login, make_app, queries_for, table
from sqlalchemy import event

from xkxl_intranet.applications.forms import form_data
from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db

SIZES = (5, 40, 96)  # per city: 105, 840 and 2,016 applications
NATIONAL = 952  # per city: 19,992 applications, a national reuse (issue 20)
LIST_RATIO_TARGET = 2.0
LAST_PAGE_TARGET = 3.0  # at 20,000 applications the last page of 全部申报 / its first page
PROVINCE_LIST = "list (province, all cities)"


def saver(app, client, application_id: int):
    """A save as the browser posts it: the form's values, one field changed, the version field."""
    with app.app_context():
        values = {k: v for k, v in form_data(db.session.get(Application, application_id)).items()
                  if v is not None}
    state = {"n": 0, "version": int(values["version"])}

    def save():
        state["n"] += 1
        response = client.post(f"/applications/{application_id}/edit",
                               data=dict(values, version=str(state["version"]), contact_title=f"总经理{state['n']}"))
        assert response.status_code == 303, response.status_code
        state["version"] += 1

    return save


def save_statements(app, save) -> tuple[int, int]:
    """Statements of one save, and how many of them read the saved row."""
    seen = []

    def remember(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        save()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    row_reads = [s for s in seen if s.startswith("SELECT application.id") and "application.id = ?" in s
                 and "application.id !=" not in s]
    return len(seen), len(row_reads)


def interleaved_medians(calls: dict, repeat: int) -> dict:
    """Median seconds of each call, taking turns call by call so that the machine's load (two
    cores, shared) weighs on every size alike: the ratios are measured side by side."""
    samples = {key: [] for key in calls}
    for fn in calls.values():
        fn()  # warm up
    for _ in range(repeat):
        for key, fn in calls.items():
            start = time.perf_counter()
            fn()
            samples[key].append(time.perf_counter() - start)
    return {key: statistics.median(values) for key, values in samples.items()}


def requests_for(total: int, province, clerk) -> dict:
    return {
        "bare Flask route": (province, "/__bare"),
        PROVINCE_LIST: (province, "/applications/"),
        "list, last page (province)": (province, f"/applications/?page={total // 50 + 1}"),
        "list, filtered by state (province)": (province, "/applications/?state=draft"),
        "list (city clerk)": (clerk, "/applications/"),
        "list search (htmx fragment)": (clerk, "/applications/?q=测试企业001"),
        "application page": (clerk, "/applications/1"),
    }


def main() -> None:
    """One app per size (105, 840, 2,016 applications), all measured in the same run."""
    apps = {}
    for per_city in SIZES:
        app, instance = make_app()
        app.add_url_rule("/__bare", "bare", lambda: "ok")
        fill_applications(app, per_city)
        apps[21 * per_city] = (app, instance, login(app, "province"), login(app, "chengdu"))
    queries, calls, sizes = {}, {}, {}
    for total, (app, _, province, clerk) in apps.items():
        for name, (client, url) in requests_for(total, province, clerk).items():
            response = client.get(url)
            assert response.status_code == 200, url
            queries[(name, total)] = queries_for(app, lambda c=client, u=url: c.get(u))
            calls[(name, total)] = lambda c=client, u=url: c.get(u)
            sizes[(name, total)] = len(response.data)
        save = saver(app, clerk, 1)
        queries[("save (POST)", total)], reads = save_statements(app, save)
        calls[("save (POST)", total)] = save
        sizes[("save (POST)", total)] = reads
    times = interleaved_medians(calls, 25)
    rows = []
    for total in apps:
        bare_time = times[("bare Flask route", total)]
        for (name, size), seconds in times.items():
            if size == total:
                extra = (f"{sizes[(name, size)]} read of its row" if name == "save (POST)"
                         else f"{sizes[(name, size)] / 1024:.0f} KB")
                rows.append((total, name, queries[(name, size)], f"{seconds * 1000:.2f}",
                             f"{seconds / bare_time:.1f}×", extra))
    print("Applications: 21 cities × N applications (SQLite, in-process test client; sizes interleaved)")
    print(table(rows, ("applications", "request", "SQL queries", "median ms", "vs bare route", "")))
    print()
    verdicts = []
    for name in (PROVINCE_LIST, "list, last page (province)", "list, filtered by state (province)",
                 "list (city clerk)", "list search (htmx fragment)", "application page", "save (POST)"):
        counts = [queries[(name, total)] for total in apps]
        verdicts.append((name, " / ".join(map(str, counts)), "PASS" if len(set(counts)) == 1 else "FAIL"))
    print(table(verdicts, ("request", "queries @105 / @840 / @2016", "constant?")))
    small, large = min(apps), max(apps)
    ratio = times[(PROVINCE_LIST, large)] / times[(PROVINCE_LIST, small)]
    last_ratio = times[("list, last page (province)", large)] / times[(PROVINCE_LIST, small)]
    save_ratio = times[("save (POST)", large)] / times[("save (POST)", small)]
    print(f"\n全部申报 list @{large} / @{small}: {ratio:.2f}× (its last page {last_ratio:.2f}×; target ≤ "
          f"{LIST_RATIO_TARGET:g}×) {'PASS' if max(ratio, last_ratio) <= LIST_RATIO_TARGET else 'FAIL'}; "
          f"save @{large} / @{small}: {save_ratio:.2f}×")
    for _, instance, _, _ in apps.values():
        shutil.rmtree(instance, ignore_errors=True)
    flat = national_pages()
    if any(v[-1] == "FAIL" for v in verdicts) or max(ratio, last_ratio) > LIST_RATIO_TARGET or not flat:
        raise SystemExit(1)


def national_pages() -> bool:
    """全部申报's first and last page at 19,992 applications, every one 初审通过 (so that each row
    carries 附件3's 序号), against the bare route, in turns."""
    app, instance = make_app()
    app.add_url_rule("/__bare", "bare", lambda: "ok")
    started = time.perf_counter()
    fill_applications(app, NATIONAL)
    with app.app_context():
        db.session.execute(db.update(Application).values(review_state="passed"))
        db.session.commit()
    filled = time.perf_counter() - started
    province = login(app, "province")
    total = 21 * NATIONAL
    urls = {"bare Flask route": "/__bare", "全部申报, first page": "/applications/",
            "全部申报, last page": f"/applications/?page={-(-total // 50)}"}
    last = province.get(urls["全部申报, last page"]).get_data(as_text=True)
    assert f"第 {-(-total // 50)} 页" in last or "页" in last
    times = interleaved_medians({name: (lambda u=url: province.get(u)) for name, url in urls.items()}, 15)
    bare = times["bare Flask route"]
    print(f"\n{total:,} applications, all 初审通过 (filled in {filled:.0f} s):")
    print(table([(name, f"{seconds * 1000:.1f}", f"{seconds / bare:.0f}×") for name, seconds in times.items()],
                ("request", "median ms", "vs bare route")))
    ratio = times["全部申报, last page"] / times["全部申报, first page"]
    ok = ratio <= LAST_PAGE_TARGET
    print(f"last page / first page: {ratio:.2f}× (target ≤ {LAST_PAGE_TARGET:g}×) {'PASS' if ok else 'FAIL'}")
    shutil.rmtree(instance, ignore_errors=True)
    return ok


if __name__ == "__main__":
    main()
