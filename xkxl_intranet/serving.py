"""How the system is served: ``make run`` and ``make serve`` run ``python -m xkxl_intranet.serving``,
and ``benchmarks/bench_rush.py`` starts the very same command, so the settings measured are the
settings served and cannot drift apart.

waitress, with settings for the night before the deadline: 21 cities' clerks at once, each
browser holding kept-alive connections, and the province polling its dashboard. Measured with
``bench_rush.py`` (200 clerks × 2 connections + 3 province sessions, README):

- ``connection_limit`` 1000 (default 100). waitress stops *accepting* at the limit, and browsers
  keep their connections open between clicks: with the defaults the server held 98 connections,
  159 of the 203 sessions got fewer than 10 answers in a minute and 149 requests had no answer in
  30 s. An idle kept-alive connection costs a few kilobytes and a descriptor, so the limit is
  set well above the 400 the rush needs; beyond it, connections wait in the backlog.
- ``channel_timeout`` 60 s (default 120) and ``cleanup_interval`` 10 s (default 30): an idle
  connection is closed a minute after its last request, so abandoned browsers give their
  descriptors back in about a minute rather than two and a half. A clerk reading one page
  longer reconnects on the next click (one round trip on the intranet; browsers resend a request
  whose kept-alive connection was closed, as the benchmark's client does).
- ``threads`` 8: two cores and the GIL mean more threads do not run more Python; they let
  requests waiting on the disk, SQLite's write lock or a slow download overlap. At the rush's
  pace 4, 8 and 16 threads all held (p99 0.1–0.2 s); at twice that pace (98 requests/s, the
  GIL saturated) 8 had the best p99 (0.8 s; 4: 1.1 s, 16: 1.3 s and 60 % more memory). A ZIP
  download or a roster PDF holds a thread for its whole length, which 4 would feel first; above
  15, threads would queue for one of SQLAlchemy's pooled connections (5 + 10 overflow).
- ``backlog`` 2048 (default 1024; the kernel caps it at ``net.core.somaxconn``): connections
  opened in one burst (every browser reconnecting after a network blip) wait in the kernel's
  queue instead of being refused.
- ``asyncore_use_poll``: ``select()`` cannot watch a descriptor numbered 1024 or above, which
  1000 connections plus upload spill files and database files would reach; ``poll()`` can.

Each connection may need up to three descriptors (socket, request and response spill files), so
the soft open-files limit is raised towards 4 × ``connection_limit`` where the hard limit allows.
Request bodies are buffered by waitress before a thread takes the request (an upload from a slow
PC holds no thread while it arrives: ``bench_files.py``). :class:`BodyGate` gives that buffering
the app's own limits, so no body the app would refuse is ever written to a temporary file.

Heavy work is not served here: the command starts the job worker (``jobs/supervisor.py``:
``python -m xkxl_intranet.worker``, which reads uploaded 申报书 in limited child processes),
restarts it if it dies and stops it on exit, so one service runs both. ``--workers 0`` leaves
it out (workers run elsewhere, against a Redis queue: docs/deploy.md).
"""
from __future__ import annotations

import argparse
import copy
import gc
import importlib
import logging
import os
import resource
import signal
import sys
from collections.abc import Callable
from io import BytesIO

from flask import Flask
from itsdangerous import BadSignature
from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.receiver import ChunkedReceiver, FixedStreamReceiver
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie

from . import GC_THRESHOLDS, create_app
from .auth.sessions import TOKEN_KEY
from .core.requestlog import log_file
from .envsettings import whole_number
from .extensions import db
from .guards import ANONYMOUS_BODY_BYTES, BODY_BYTES_HEADER, BODY_DISCARDED_HEADER, limit_for
from .instance_lock import hold_serving
from .jobs.supervisor import WorkerSupervisor
from .ops.schema import EXIT_SCHEMA_NOT_AT_HEAD, SchemaNotAtHead
from .ops.schema_guard import guard_schema
from .processes import ServingProcesses, listening_socket

SETTINGS: dict[str, int | bool] = {
    "threads": 8,
    "connection_limit": 1000,
    "channel_timeout": 60,
    "cleanup_interval": 10,
    "backlog": 2048,
    "asyncore_use_poll": True,
}
DESCRIPTORS_PER_CONNECTION = 4


def raise_open_files_limit(wanted: int) -> int:
    """Raise the soft limit on open files towards ``wanted`` (never above the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def load_app(spec: str | None) -> Callable:
    """The WSGI application: the system's own (``create_app()``), or ``module:attribute``
    (the benchmark adds a bare route to the same app this way)."""
    if not spec:
        return create_app(commands=False)  # serving runs no command-line tool
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "app")


def tune_garbage_collector() -> None:
    """Once the app is built: its ~140,000 objects (modules, mappers, compiled templates) are
    frozen out of the collector's reach, so that a full collection no longer walks them all, and
    the youngest generation is collected every 10,000 allocations instead of 700 (a page
    allocates thousands of objects: the default collected several times per request). Measured
    on the dashboard under this server: about a fifth less CPU per request, bare route alike."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def parse_setting(text: str) -> tuple[str, int | bool]:
    """``name=value`` for one of :data:`SETTINGS` (``--set channel_timeout=120``)."""
    name, _, value = text.partition("=")
    if name not in SETTINGS or not value:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(SETTINGS)} as name=value")
    if isinstance(SETTINGS[name], bool):
        return name, value.lower() in ("1", "true", "yes", "on")
    try:
        return name, int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} takes a whole number") from None


# Behind nginx (deploy/): the client's address and scheme come from these headers, and only
# when the connection is from the proxy; a client's own copies of them are dropped.
PROXY_HEADERS = frozenset({"x-forwarded-for", "x-forwarded-proto"})


def proxy_settings(trusted_proxy: str | None) -> dict:
    """waitress's settings to trust the reverse proxy at ``trusted_proxy`` (none without one)."""
    if not trusted_proxy:
        return {}
    return {"trusted_proxy": trusted_proxy, "trusted_proxy_count": 1,
            "trusted_proxy_headers": set(PROXY_HEADERS), "clear_untrusted_proxy_headers": True}


class BodyGate:
    """The app's body limits (guards.limit_for), applied by waitress from a request's headers,
    before it buffers the body to a temporary file: without this, any client could have waitress
    spool up to ``max_request_body_size`` (200 MB) to disk per connection before the app refused
    it. A chunked body (no Content-Length) of an upload is counted as it arrives and let go
    past the route's limit (:class:`_CappedBuffer`); the app then answers 413 as for a declared
    length over the limit (Chinese page, log line, audit row). The route comes from the app's
    URL map; "logged in" from the session cookie's signature and its log-in token (the app still
    checks the session itself: the gate is only ever stricter than nothing and never stricter
    than the app)."""

    def __init__(self, app: Flask):
        self.app = app
        self.urls = app.url_map.bind("gate")
        self.cookie_name = app.config["SESSION_COOKIE_NAME"]
        # Flask's SecureCookieSessionInterface, typed as the SessionInterface it derives from
        self.serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        self.max_age = int(app.permanent_session_lifetime.total_seconds())

    def looks_logged_in(self, cookie_header: str) -> bool:
        value = parse_cookie(cookie_header).get(self.cookie_name)
        if not value or self.serializer is None:
            return False
        try:
            return TOKEN_KEY in self.serializer.loads(value, max_age=self.max_age)
        except (BadSignature, TypeError, ValueError):
            return False

    def limit(self, method: str, path: str, cookie_header: str, content_length: int | None) -> int | None:
        """The bytes of body the app takes on this request: 0 when the body is refused from its
        headers alone, None when its Content-Length is within the limit. ``content_length``
        None: a chunked body, whose size is known only as it arrives; only an upload from a
        logged-in session may send one, and it is counted against the upload limit as it comes
        (:class:`_CappedBuffer`)."""
        try:
            endpoint = self.urls.match(path, method=method)[0]
        except HTTPException:
            endpoint = None
        logged_in = self.looks_logged_in(cookie_header)
        with self.app.app_context():
            limit = limit_for(self.app, endpoint, logged_in)
            cap = self.app.config.get("MAX_CONTENT_LENGTH")
        size = min(limit.size, cap) if cap else limit.size  # as guards.body_limit
        if limit.upload and not logged_in:  # the app sends such a client to log in, unread
            return 0 if content_length is None or content_length > ANONYMOUS_BODY_BYTES else None
        if content_length is None:
            return size if limit.upload else 0
        return 0 if content_length > size else None


class _Discarded:
    """A body buffer that keeps nothing: the body of a refused request is read past (so that the
    client, still sending, then reads the app's 413 page) but neither stored nor held."""

    def append(self, data: bytes) -> None:
        pass

    def __len__(self) -> int:
        return 0

    def getfile(self) -> BytesIO:
        return BytesIO()

    def close(self) -> None:
        pass


class _CappedBuffer:
    """waitress's buffer of a chunked upload, kept up to ``cap`` bytes (the route's limit); past
    it, what was kept is let go and the rest is read past (:class:`_Discarded`), still counted,
    so that the app answers 413 with the size, as for a Content-Length over the limit."""

    def __init__(self, kept, cap: int):
        self.kept = kept
        self.cap = cap
        self.size = 0
        self.over = False

    def append(self, data: bytes) -> None:
        self.size += len(data)
        if not self.over and self.size > self.cap:
            self.over = True
            self.kept.close()
            self.kept = _Discarded()
        self.kept.append(data)

    def __len__(self) -> int:
        return len(self.kept)

    def getfile(self):
        return self.kept.getfile()

    def close(self) -> None:
        self.kept.close()


def gated_channel(gate: BodyGate) -> type[HTTPChannel]:
    """waitress's channel whose request parser consults ``gate`` once the headers are in."""

    class GatedParser(HTTPRequestParser):
        capped: _CappedBuffer | None = None

        def parse_header(self, header_plus):
            super().parse_header(header_plus)
            for forged in (BODY_DISCARDED_HEADER, BODY_BYTES_HEADER):  # the server's to set, not a client's
                self.headers.pop(forged, None)
            if self.body_rcv is None:
                return
            size = None if self.chunked else self.content_length
            limit = gate.limit(self.command, self.path, self.headers.get("COOKIE", ""), size)
            if limit is None:
                return
            # waitress's own limit guards what it holds; a body read past holds nothing, and a
            # chunked upload's is counted here: without this, a body over it got waitress's English
            # "Request Entity Too Large" and a closed connection (nginx, still sending, answered
            # 502), never the app's page, and the app's log had no line of it.
            self.adj = copy.copy(self.adj)
            self.adj.max_request_body_size = sys.maxsize
            if limit:  # a chunked upload: kept while within the limit (waitress counted framing too)
                self.capped = _CappedBuffer(self.body_rcv.getbuf(), limit)
                self.body_rcv = ChunkedReceiver(self.capped)
                return
            self.headers[BODY_DISCARDED_HEADER] = "1"
            self.expect_continue = False  # a client waiting for "100 Continue" gets the 413 first
            self.body_rcv = (ChunkedReceiver(_Discarded()) if self.chunked
                             else FixedStreamReceiver(self.content_length, _Discarded()))

        def received(self, data):
            consumed = super().received(data)
            if self.completed and self.capped is not None and self.capped.over:
                self.headers[BODY_DISCARDED_HEADER] = "1"  # the app answers 413, unread
                self.headers[BODY_BYTES_HEADER] = str(self.capped.size)
            return consumed

    class GatedChannel(HTTPChannel):
        parser_class = GatedParser

    return GatedChannel


def make_server(app: Callable, *, host: str = "", port: int = 0, threads: int | None = None,
                overrides: dict | None = None, trusted_proxy: str | None = None,
                sockets: list | None = None):
    """The waitress server with :data:`SETTINGS` (``port=0``: any free port; ``sockets``: accept
    on these, already listening, instead), not yet running; the garbage collector tuned for
    serving."""
    tune_garbage_collector()
    settings = {**SETTINGS, **(overrides or {}), **proxy_settings(trusted_proxy)}
    if threads:
        settings["threads"] = threads
    raise_open_files_limit(DESCRIPTORS_PER_CONNECTION * int(settings["connection_limit"]) + 64)
    # waitress's own body limit is the app's: one file at the limit plus the form's few fields
    # (guards.upload_body_limit, from MAX_UPLOAD_MB), so a larger body is never buffered. waitress
    # refuses a body *at* its limit, the app one *over* it: hence the byte more.
    config = getattr(app, "config", None)
    if config and config.get("MAX_CONTENT_LENGTH") and "max_request_body_size" not in settings:
        settings["max_request_body_size"] = int(config["MAX_CONTENT_LENGTH"]) + 1
    where = {"sockets": sockets} if sockets else {"host": host, "port": port}
    server = create_server(app, ident="xkxl", **where, **settings)
    if isinstance(app, Flask):
        server.channel_class = gated_channel(BodyGate(app))
    return server


def print_in_worker(app: Callable) -> None:
    """The system's PDFs are made by the job worker (printing.py says why), whether it runs beside
    the server or elsewhere (``--workers 0``): the serving processes never import WeasyPrint. Not
    when jobs run inline (tests)."""
    if isinstance(app, Flask) and not app.config.get("JOBS_INLINE"):
        app.config["PRINT_IN_WORKER"] = True


def start_workers(app: Callable, workers: int | None) -> WorkerSupervisor | None:
    """The job worker beside the server (``workers``: its processes; 0: none here). Only for the
    system's own app, and not when its jobs run inline."""
    if workers == 0 or not isinstance(app, Flask) or app.config.get("JOBS_INLINE"):
        return None
    return WorkerSupervisor(app.instance_path, workers=workers).start()


def _exit_on_terminate(signum, frame) -> None:
    sys.exit(0)  # systemd's SIGTERM: unwind, so that the worker is stopped on the way out


def serve(app: Callable, *, host: str, port: int, threads: int | None = None,
          overrides: dict | None = None, trusted_proxy: str | None = None, workers: int | None = None,
          processes: int = 1) -> None:
    """Serve until stopped: one waitress process, or ``processes`` of them on one listening
    socket (processes.py says why), with the job worker beside them."""
    logging.basicConfig()
    logging.getLogger("waitress").setLevel(logging.INFO)
    logging.getLogger("xkxl_intranet.jobs").setLevel(logging.INFO)
    if isinstance(app, Flask):
        hold_serving(app.instance_path)  # flask restore refuses while it is held, even with --force
    if processes > 1:
        _serve_in_processes(app, host=host, port=port, threads=threads, overrides=overrides,
                            trusted_proxy=trusted_proxy, workers=workers, processes=processes)
        return
    server = make_server(app, host=host, port=port, threads=threads, overrides=overrides,
                         trusted_proxy=trusted_proxy)
    print_in_worker(app)
    supervisor = start_workers(app, workers)
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    server.print_listen("Serving on http://{}:{}")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if supervisor is not None:
            supervisor.stop()


def _serve_in_processes(app: Callable, *, host: str, port: int, processes: int, workers: int | None,
                        **server_options) -> None:
    """The parent makes the listening socket and forks the serving processes before any thread
    of its own starts (a fork keeps only the forking thread); each child serves on the socket
    with its own database connections, the parent looks after them and the job worker."""
    backlog = int({**SETTINGS, **(server_options.get("overrides") or {})}["backlog"])
    sock = listening_socket(host, port, backlog)
    tune_garbage_collector()  # before the fork: the children share the frozen objects' pages
    print_in_worker(app)

    def serve_one() -> None:
        if isinstance(app, Flask):
            with app.app_context():
                db.engine.dispose(close=False)  # connections the parent opened stay the parent's
        server = make_server(app, sockets=[sock], **server_options)
        server.run()

    pool = ServingProcesses(processes, serve_one)
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    print(f"Serving on http://{host}:{sock.getsockname()[1]} ({processes} processes)", flush=True)
    supervisor = None
    try:
        pool.start()  # every child forked before the worker's supervising thread starts
        supervisor = start_workers(app, workers)
        pool.watch()
    except KeyboardInterrupt:
        pass
    finally:
        pool.stop()
        if supervisor is not None:
            supervisor.stop()


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m xkxl_intranet.serving",
                                     description="四川省工业互联网平台推荐申报系统：启动服务（waitress）")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=None,
                        help=f"worker threads (default {SETTINGS['threads']})")
    parser.add_argument("--set", dest="overrides", type=parse_setting, action="append", default=[],
                        metavar="NAME=VALUE", help="override one waitress setting, e.g. channel_timeout=120")
    parser.add_argument("--app", default=None, help="module:attribute of another WSGI app (benchmarks)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="job worker processes started beside the server (default JOBS_WORKERS, 2; "
                             "0: none, the workers run on another machine)")
    parser.add_argument("--processes", type=int, default=default_processes(), metavar="N",
                        help="serving processes on one socket (default: one per core, "
                             "XKXL_SERVING_PROCESSES to choose)")
    parser.add_argument("--trusted-proxy", default=None, metavar="ADDRESS",
                        help="the reverse proxy's address (deploy: 127.0.0.1): its X-Forwarded-For "
                             "and X-Forwarded-Proto are trusted, anyone else's are dropped")
    return parser


def refuse_unless_schema_at_head(app: Callable) -> None:
    """Never serve on a database that is not at this program's head (every log-in would fail
    with a 500): exit with the Chinese message naming ``xkxl db upgrade`` (systemd's journal and
    ``systemctl status xkxl`` show it), or migrate first when ``XKXL_AUTO_MIGRATE=1``
    (ops/schema.py). Checked once, before any serving process forks. With a log file the
    refusal goes there too: an operator reading app.log sees why nothing was served."""
    if not isinstance(app, Flask) or "sqlalchemy" not in app.extensions:
        return
    try:
        guard_schema(app)
    except SchemaNotAtHead as refusal:
        print(refusal.message, file=sys.stderr, flush=True)
        if log_file(app):  # else the log is standard error, which has just said it
            app.logger.error("%s", refusal.message)
        sys.exit(EXIT_SCHEMA_NOT_AT_HEAD)


def main(argv: list[str] | None = None) -> None:
    args = argument_parser().parse_args(argv)
    app = load_app(args.app)
    refuse_unless_schema_at_head(app)
    serve(app, host=args.host, port=args.port, threads=args.threads,
          overrides=dict(args.overrides), trusted_proxy=args.trusted_proxy, workers=args.workers,
          processes=args.processes)


def default_processes() -> int:
    """One serving process per core (two here), or ``XKXL_SERVING_PROCESSES``."""
    return whole_number("XKXL_SERVING_PROCESSES", minimum=1) or max(1, os.cpu_count() or 1)


if __name__ == "__main__":
    main()
