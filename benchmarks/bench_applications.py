"""Applications list and page: SQL queries per request must not grow with the number of
applications; time per request is reported relative to a bare Flask route of the same app.

Run: .venv/bin/python benchmarks/bench_applications.py
"""
from __future__ import annotations

import shutil

from _common import fill_applications, login, make_app, median_seconds, queries_for, table


def main() -> None:
    app, instance = make_app()

    @app.route("/__bare")
    def bare():
        return "ok"

    rows = []
    results = {}
    for per_city in (5, 40):
        fill_applications(app, per_city)
        province = login(app, "province")
        clerk = login(app, "chengdu")
        pages = {
            "bare Flask route": (province, "/__bare"),
            "list (province, all cities)": (province, "/applications/"),
            "list (city clerk)": (clerk, "/applications/"),
            "list search (htmx fragment)": (clerk, "/applications/?q=测试企业001"),
            "application page": (clerk, "/applications/1"),
        }
        bare_time = median_seconds(lambda p=province: p.get("/__bare"), 200)
        for name, (client, url) in pages.items():
            assert client.get(url).status_code == 200, url
            queries = queries_for(app, lambda c=client, u=url: c.get(u))
            seconds = median_seconds(lambda c=client, u=url: c.get(u), 15 if "list" in name else 40)
            results[(name, per_city)] = queries
            rows.append((f"{21 * per_city}", name, queries, f"{seconds * 1000:.2f}",
                         f"{seconds / bare_time:.1f}×"))
    print("Applications: 21 cities × N applications (SQLite, in-process test client)")
    print(table(rows, ("applications", "request", "SQL queries", "median ms", "vs bare route")))
    print()
    verdicts = []
    for name in ("list (province, all cities)", "list (city clerk)", "list search (htmx fragment)",
                 "application page"):
        small, large = results[(name, 5)], results[(name, 40)]
        verdicts.append((name, small, large, "PASS" if large == small else "FAIL"))
    print(table(verdicts, ("request", "queries @105", "queries @840", "constant?")))
    shutil.rmtree(instance, ignore_errors=True)
    if any(v[-1] == "FAIL" for v in verdicts):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
