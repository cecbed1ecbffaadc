"""Province dashboard with 21 cities × 40 applications: SQL queries per request must not
depend on the number of applications, and requests per second must be at least 40% of a
bare Flask route served by the same server (waitress, in a subprocess) in the same run.

Run: .venv/bin/python benchmarks/bench_dashboard.py
"""
from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import fill_applications, login, make_app, queries_for, table

DURATION = 4.0
CONNECTIONS = 4


def serve(instance: str, port: int, cache: bool) -> None:
    """Subprocess: the same app, with a bare route, behind waitress."""
    import logging

    from waitress import serve as waitress_serve

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" under load

    from xkxl_intranet import create_app

    app = create_app({"SECRET_KEY": "bench", "INSTANCE_PATH": instance,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.sqlite3",
                      "UPLOAD_FOLDER": f"{instance}/uploads", "WTF_CSRF_ENABLED": False,
                      "DASHBOARD_CACHE": cache})

    @app.route("/__bare")
    def bare():
        return "ok"

    waitress_serve(app, host="127.0.0.1", port=port, threads=CONNECTIONS, _quiet=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/login", body="username=province&password=Bench-pass-2022",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    conn.close()
    return cookie


def load(port: int, path: str, cookie: str) -> float:
    """Requests per second with CONNECTIONS keep-alive clients for DURATION seconds."""
    counts = [0] * CONNECTIONS
    stop = time.perf_counter() + DURATION

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while time.perf_counter() < stop:
            conn.request("GET", path, headers={"Cookie": cookie, "HX-Request": "true"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200, (path, response.status)
            counts[index] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def main() -> None:
    app, instance = make_app()
    rows = []
    queries = {}
    def clear_cache() -> None:
        cache = app.extensions.get("xkxl_dashboard_cache")
        if cache is not None:
            cache.clear()

    for per_city in (5, 40):
        fill_applications(app, per_city)
        province = login(app, "province")
        clear_cache()  # count the queries of a full render, not of a cached one
        queries[per_city] = queries_for(app, lambda p=province: p.get("/rounds/dashboard"))
        clear_cache()
        queries[(per_city, "htmx")] = queries_for(
            app, lambda p=province: p.get("/rounds/dashboard", headers={"HX-Request": "true"}))
        queries[(per_city, "cached")] = queries_for(
            app, lambda p=province: p.get("/rounds/dashboard", headers={"HX-Request": "true"}))
    def measure(cache: bool) -> tuple[float, float]:
        port = free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(instance), str(port),
                                   "cache" if cache else "nocache"])
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            cookie = session_cookie(port)
            load(port, "/rounds/dashboard", cookie)  # warm up
            return load(port, "/__bare", cookie), load(port, "/rounds/dashboard", cookie)
        finally:
            server.terminate()
            server.wait(timeout=10)

    bare_rps, dashboard_rps = measure(cache=True)
    # Every poll re-rendering the table (as if the data changed between all polls).
    uncached_bare_rps, uncached_rps = measure(cache=False)
    shutil.rmtree(instance, ignore_errors=True)
    print("Province dashboard (21 cities; waitress, 4 threads, 4 keep-alive clients, htmx refresh)")
    rows.append(("SQL queries, page @105 applications", queries[5], ""))
    rows.append(("SQL queries, page @840 applications", queries[40],
                 "PASS" if queries[40] == queries[5] else "FAIL"))
    rows.append(("SQL queries, htmx refresh @105 / @840", f"{queries[(5, 'htmx')]} / {queries[(40, 'htmx')]}",
                 "PASS" if queries[(5, 'htmx')] == queries[(40, 'htmx')] else "FAIL"))
    rows.append(("SQL queries, unchanged data (cached table) @840", queries[(40, "cached")], ""))
    rows.append(("bare route req/s", f"{bare_rps:.0f}", ""))
    rows.append(("dashboard req/s @840", f"{dashboard_rps:.0f}", ""))
    ratio = dashboard_rps / bare_rps
    rows.append(("dashboard / bare", f"{ratio:.0%}", "PASS (≥ 40%)" if ratio >= 0.4 else "FAIL (< 40%)"))
    rows.append(("dashboard req/s, cache off (every poll re-rendered)", f"{uncached_rps:.0f}",
                 f"{uncached_rps / uncached_bare_rps:.0%} of bare {uncached_bare_rps:.0f} (informative)"))
    print(table(rows, ("measure", "value", "target")))
    if any(r[2].startswith("FAIL") for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "cache")
    else:
        main()
