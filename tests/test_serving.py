"""The serving command's settings (xkxl_intranet/serving.py) on a real socket: as many kept-alive
connections as the deadline rush needs (200 clerks × 2, four times waitress's default limit of
100) are all answered, first request and second. The rush's timings are benchmarks/bench_rush.py's."""
from __future__ import annotations

import re
import shlex
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

from waitress import wasyncore

from xkxl_intranet.serving import DESCRIPTORS_PER_CONNECTION, SETTINGS, argument_parser, load_app, make_server

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


@contextmanager
def _running(app, **options):
    server = make_server(app, host="127.0.0.1", port=0, **options)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    try:
        yield server
    finally:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)
        runner.join(timeout=5)


def test_more_kept_alive_connections_than_waitress_default_are_all_answered():
    connections = []
    with _running(_hello) as server:
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


def _client_as_seen(environ, start_response):
    body = f"{environ['REMOTE_ADDR']} {environ['wsgi.url_scheme']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _seen_by_app(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"X-Forwarded-For: 10.20.30.40\r\nX-Forwarded-Proto: https\r\n\r\n")
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
    return data.split(b"\r\n\r\n", 1)[1].decode()


def test_behind_the_proxy_the_app_sees_the_clerks_address_and_only_the_proxy_is_believed():
    """What the audit trail and the log-in throttle count: the clerk's address as nginx passes
    it on. A server that trusts another proxy address drops a client's own forwarded headers."""
    with _running(_client_as_seen, trusted_proxy="127.0.0.1") as server:
        assert _seen_by_app(server.effective_port) == "10.20.30.40 https"
    with _running(_client_as_seen, trusted_proxy="10.0.0.1") as server:
        assert _seen_by_app(server.effective_port) == "127.0.0.1 http"
    with _running(_client_as_seen) as server:  # make run: no proxy, the socket's own address
        assert _seen_by_app(server.effective_port) == "127.0.0.1 http"


def test_the_deployed_service_starts_the_same_serving_command_behind_nginx():
    """deploy/xkxl.service serves with the settings measured for the rush (not a second command
    with its own options), on the address nginx forwards to, trusting nginx alone."""
    root = Path(__file__).resolve().parent.parent
    unit = (root / "deploy" / "xkxl.service").read_text(encoding="utf-8").replace("\\\n", " ")
    [command] = re.findall(r"^ExecStart=(.+)$", unit, flags=re.M)
    words = shlex.split(command)
    assert words[1:3] == ["-m", "xkxl_intranet.serving"] and words[0].endswith("/venv/bin/python")
    args = argument_parser().parse_args(words[3:])
    nginx = (root / "deploy" / "nginx-xkxl.conf").read_text(encoding="utf-8")
    assert f"server {args.host}:{args.port};" in nginx
    assert args.trusted_proxy == "127.0.0.1" and args.overrides == [] and args.threads is None
    assert "waitress-serve" not in unit
    limit = int(re.search(r"^LimitNOFILE=(\d+)$", unit, flags=re.M)[1])
    assert limit >= DESCRIPTORS_PER_CONNECTION * SETTINGS["connection_limit"] + 64  # what serving asks for


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


def test_the_serving_command_prints_in_the_worker_which_warms_up_before_it_forks():
    """serve() hands every PDF to the job worker (the serving processes never import WeasyPrint);
    the worker loads WeasyPrint and the CJK font before it forks, so that no print pays for them."""
    import sys

    from flask import Flask

    from xkxl_intranet import printing, serving
    from xkxl_intranet.print_job import warm_up

    app = Flask("t")
    serving.print_in_worker(app)
    assert app.config["PRINT_IN_WORKER"] is True
    inline = Flask("t")
    inline.config["JOBS_INLINE"] = True
    serving.print_in_worker(inline)
    assert not inline.config.get("PRINT_IN_WORKER")
    warm_up()
    assert "weasyprint" in sys.modules and printing._report_html_class.cache_info().currsize == 1
    root = Path(__file__).resolve().parent.parent / "xkxl_intranet"
    serve_body = (root / "serving.py").read_text(encoding="utf-8")
    assert serve_body.count("print_in_worker(app)") == 2  # one process and several alike
    worker = (root / "worker.py").read_text(encoding="utf-8")
    assert worker.index("warm_up()") < worker.index("return Consumer(")
