"""The serving command's settings (xkxl_intranet/serving.py) on a real socket: as many kept-alive
connections as the deadline rush needs (200 clerks × 2, four times waitress's default limit of
100) are all answered, first request and second. The rush's timings are benchmarks/bench_rush.py's."""
from __future__ import annotations

import socket
import threading

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
