"""The serving command's settings (xkxl_intranet/serving.py) on a real socket: as many kept-alive
connections as the deadline rush needs (200 clerks × 2, four times waitress's default limit of
100) are all answered, first request and second. The rush's timings are benchmarks/bench_rush.py's."""
from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

from waitress import wasyncore

from xkxl_intranet.serving import load_app, make_server

CONNECTIONS = 410  # 200 clerks × 2 and the province; waitress's default limit is 100


def _hello(environ, start_response):
    body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _ask(conn: socket.socket) -> bytes:
    conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while not data.endswith(b"\r\n\r\nok"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_more_kept_alive_connections_than_waitress_default_are_all_answered():
    server = make_server(_hello, host="127.0.0.1", port=0)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    connections = []
    try:
        for _ in range(CONNECTIONS):
            conn = socket.create_connection(("127.0.0.1", server.effective_port), timeout=10)
            connections.append(conn)
            assert _ask(conn).startswith(b"HTTP/1.1 200")
        # All still open (kept alive) and all answered again on the same connection.
        for conn in connections:
            assert _ask(conn).startswith(b"HTTP/1.1 200")
    finally:
        for conn in connections:
            conn.close()
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)
        runner.join(timeout=5)


def test_the_command_can_serve_another_wsgi_app_by_name():
    """How bench_rush.py serves the app with its bare route through the very same command."""
    app = load_app("test_serving:_hello")
    assert (app.__module__, app.__name__) == ("test_serving", "_hello")


def test_make_run_and_the_rush_benchmark_start_the_same_command():
    """The settings the benchmark measures are the ones `make run` serves: both run the one
    serving module, and no other server command is left in the Makefile."""
    root = Path(__file__).resolve().parent.parent
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    serve_line = next(line for line in makefile.splitlines() if line.startswith("SERVE ="))
    assert "-m xkxl_intranet.serving" in serve_line
    recipes = re.findall(r"^(run|serve):.*\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert {name for name, _ in recipes} == {"run", "serve"}
    assert all(body.rstrip().endswith("$(SERVE)") for _, body in recipes)
    assert "waitress-serve" not in makefile
    bench = (root / "benchmarks" / "bench_rush.py").read_text(encoding="utf-8")
    assert '[sys.executable, "-m", "xkxl_intranet.serving"' in bench
