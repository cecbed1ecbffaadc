"""Province dashboard with 21 cities × 40 applications: SQL queries per request must not
depend on the number of applications, and requests per second must be at least 40% of a
bare Flask route served by the same server (waitress with the settings of ``make run``, in a
subprocess) in the same run, both with the fragment cache (the usual poll: unchanged data) and
without it (every poll re-rendered, as after every change).

The two servers (cache on, cache off) run side by side; bare route and dashboard are loaded in
turns of a second each, several times, so that the machine's load (2 shared cores) weighs on
all four alike. The ratio is of the summed counts; the spread is of the turns' ratios.

Run: .venv/bin/python benchmarks/bench_dashboard.py
"""
from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import fill_applications, login, make_app, queries_for, table

TURN = 1.0  # seconds per turn
TURNS = 6  # per (server, route)
CONNECTIONS = 4
TARGET = 0.4


def serve(instance: str, port: int, cache: bool) -> None:
    """Subprocess: the same app, with a bare route, behind waitress."""
    import logging

    from xkxl_intranet import create_app
    from xkxl_intranet.serving import make_server

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" under load

    app = create_app({"SECRET_KEY": "bench", "INSTANCE_PATH": instance,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.sqlite3",
                      "UPLOAD_FOLDER": f"{instance}/uploads", "WTF_CSRF_ENABLED": False,
                      "DASHBOARD_CACHE": cache})

    @app.route("/__bare")
    def bare():
        return "ok"

    make_server(app, host="127.0.0.1", port=port, threads=CONNECTIONS).run()


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


def load(port: int, path: str, cookie: str, seconds: float = TURN) -> tuple[int, float]:
    """Requests answered by CONNECTIONS keep-alive clients in ``seconds``, and the time taken."""
    counts = [0] * CONNECTIONS
    stop = time.perf_counter() + seconds

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while time.perf_counter() < stop:
            conn.request("GET", path, headers={"Cookie": cookie, "HX-Request": "true",
                                               "X-Background-Poll": "1"})
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
    return sum(counts), time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(instance: str, cache: bool) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", instance, str(port),
                               "cache" if cache else "nocache"])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server, port


def side_by_side(instance: str) -> dict:
    """Requests per second of (cache, route) for the four combinations, measured in turns;
    and each turn's dashboard/bare ratio."""
    servers = {cache: start_server(instance, cache) for cache in (True, False)}
    try:
        cookies = {cache: session_cookie(port) for cache, (_, port) in servers.items()}
        for cache, (_, port) in servers.items():  # warm up
            load(port, "/rounds/dashboard", cookies[cache], 0.5)
            load(port, "/__bare", cookies[cache], 0.5)
        totals = {(cache, route): [0, 0.0, 0.0] for cache in servers for route in ("bare", "dashboard")}
        ratios: dict[bool, list[float]] = {cache: [] for cache in servers}
        for _ in range(TURNS):
            for cache, (server, port) in servers.items():
                turn = {}
                for route, path in (("bare", "/__bare"), ("dashboard", "/rounds/dashboard")):
                    cpu = cpu_seconds(server.pid)
                    count, seconds = load(port, path, cookies[cache])
                    totals[(cache, route)][0] += count
                    totals[(cache, route)][1] += seconds
                    totals[(cache, route)][2] += cpu_seconds(server.pid) - cpu
                    turn[route] = count / seconds
                ratios[cache].append(turn["dashboard"] / turn["bare"])
        rps = {key: count / seconds for key, (count, seconds, _) in totals.items()}
        cpu = {key: cpu_seconds / count for key, (count, _, cpu_seconds) in totals.items()}
        return {"rps": rps, "ratios": ratios, "cpu": cpu}
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=10)


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
    measured = side_by_side(str(instance))
    shutil.rmtree(instance, ignore_errors=True)
    rps, ratios, cpu = measured["rps"], measured["ratios"], measured["cpu"]
    print(f"Province dashboard (21 cities; the serving command's waitress, {CONNECTIONS} threads, "
          f"{CONNECTIONS} keep-alive clients, htmx refresh; {TURNS} turns of {TURN:g} s per route)")
    rows.append(("SQL queries, page @105 applications", queries[5], ""))
    rows.append(("SQL queries, page @840 applications", queries[40],
                 "PASS" if queries[40] == queries[5] else "FAIL"))
    rows.append(("SQL queries, htmx refresh @105 / @840", f"{queries[(5, 'htmx')]} / {queries[(40, 'htmx')]}",
                 "PASS" if queries[(5, 'htmx')] == queries[(40, 'htmx')] else "FAIL"))
    rows.append(("SQL queries, unchanged data (cached table) @840", queries[(40, "cached")], ""))
    for cache, name in ((True, "cache on (unchanged data)"), (False, "cache off (every poll re-rendered)")):
        ratio = rps[(cache, "dashboard")] / rps[(cache, "bare")]
        spread = f"{min(ratios[cache]):.0%}–{max(ratios[cache]):.0%}"
        rows.append((f"{name}: bare / dashboard req/s",
                     f"{rps[(cache, 'bare')]:.0f} / {rps[(cache, 'dashboard')]:.0f}", ""))
        rows.append((f"{name}: dashboard / bare", f"{ratio:.0%} (turns {spread})",
                     f"PASS (≥ {TARGET:.0%})" if ratio >= TARGET else f"FAIL (< {TARGET:.0%})"))
        rows.append((f"{name}: server CPU per request, bare / dashboard",
                     f"{cpu[(cache, 'bare')] * 1000:.2f} / {cpu[(cache, 'dashboard')] * 1000:.2f} ms",
                     f"{cpu[(cache, 'bare')] / cpu[(cache, 'dashboard')]:.0%} (not slowed by other load)"))
    print(table(rows, ("measure", "value", "target")))
    if any(r[2].startswith("FAIL") for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "cache")
    else:
        main()
