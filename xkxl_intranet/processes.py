"""Processes the serving command starts itself: the serving processes on one listening socket
(:class:`ServingProcesses`), and what every child of it does so that none outlives it.

Why several serving processes: two cores, and Python runs one thread at a time per process. On
the night before the deadline one process spent its one core on pages while the other core idled
(the issue measured 32-43 requests/s, "one process on one core"); a second process on the same
socket lets the kernel hand each new connection to whichever is free. What is per process: the
dashboard's fragment cache (each renders its own; it is a few milliseconds); what is shared:
the database, the uploads, the generated files and their render slots (``generated.py`` counts
them across processes), the job queue and its worker, the log-in throttle and sessions (in the
database).
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1
RESTART_DELAY = 1.0  # a serving process that died is started again after this
WATCH_EVERY = 0.5


def die_with_parent(signum: int = signal.SIGTERM) -> bool:
    """Linux: the kernel sends ``signum`` to this process when its parent ends (kill -9 too)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
    except (OSError, AttributeError):
        return False
    return True


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """The one socket every serving process accepts on (``port`` 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


class ServingProcesses:
    """``count`` forked children each running ``serve_one()`` (which serves until the process
    ends), started again when one dies; :meth:`stop` ends them all. The parent serves nothing
    itself: it waits, restarts and stops."""

    def __init__(self, count: int, serve_one: Callable[[], None]):
        self.count = count
        self.serve_one = serve_one
        self.children: set[int] = set()
        self.stopping = False

    def _fork(self) -> None:
        pid = os.fork()
        if pid == 0:  # the child
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the parent, which stops us
                die_with_parent(signal.SIGTERM)
                self.serve_one()
            except BaseException:  # noqa: BLE001 - a child must never return into the parent's code
                log.exception("serving process %s failed", os.getpid())
                code = 1
            finally:
                os._exit(code)
        self.children.add(pid)
        log.info("serving process started (pid %s)", pid)

    def start(self) -> ServingProcesses:
        """Fork the children (before this process starts any thread: a fork keeps only the
        forking thread, and a lock another thread held would stay locked in the child)."""
        for _ in range(self.count):
            self._fork()
        return self

    def watch(self) -> None:
        """Look after the children until :meth:`stop` (or a signal) ends it. Each child is
        waited for by its own pid, so the job worker (the supervisor's child, watched by a thread
        of this process) is never reaped here."""
        while self.children:
            time.sleep(WATCH_EVERY)
            for pid in list(self.children):
                try:
                    done, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done, status = pid, -1
                if not done:
                    continue
                self.children.discard(pid)
                if not self.stopping:
                    log.error("serving process %s ended (%s); starting another", pid, status)
                    time.sleep(RESTART_DELAY)
                    if not self.stopping:
                        self._fork()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.children.discard(pid)
        end = time.monotonic() + timeout
        while self.children and time.monotonic() < end:
            for pid in list(self.children):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    self.children.discard(pid)
            time.sleep(0.05)
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
