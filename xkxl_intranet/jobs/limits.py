"""Running the heavy part of a job in a child process with limits, so that a hostile document can
cost a job but never the worker, let alone the web server.

The worker forks a child for each run (the readers are already imported, so a fork costs
milliseconds); the child lowers its own limits before it starts:

- ``RLIMIT_AS``: its address space. An allocation past it fails: Python raises MemoryError, a C
  library (PDFium, libxml2) gives up or aborts; either way the child ends and the run is over the
  memory limit. It counts what the fork inherited (~130 MB for the worker).
- ``RLIMIT_CPU``: the kernel sends SIGXCPU at the soft limit and SIGKILL a second later, even in
  the middle of a C call that never returns to Python (a page of millions of glyphs).
- the wall clock: the parent waits at most that long for the answer, then kills the child (a
  child stuck waiting on the disk uses no CPU). ``alarm()`` in the child and "die with the
  parent" (Linux) end it if the worker itself is killed meanwhile.

The answer comes back pickled through a pipe; it is read while the child writes, so an answer
larger than the pipe's buffer cannot deadlock, and it is bounded.
"""
from __future__ import annotations

import faulthandler
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..processes import die_with_parent

MB = 1024 * 1024
MAX_ANSWER_BYTES = 64 * MB  # a reading's JSON is a few KB; anything near this is not an answer


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 512
    cpu_seconds: int = 20
    wall_seconds: float = 30.0


class LimitExceeded(Exception):
    """The child was ended at a limit; ``reason``: memory, cpu, time or crash (killed by a signal
    without reaching a limit we can name, e.g. an abort() on a failed allocation)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ChildFailed(Exception):
    """The function raised in the child (not at a limit): the text of the exception."""


def run_limited(function: Callable[..., Any], *args: Any, limits: Limits) -> Any:
    """``function(*args)`` in a forked child within ``limits``; its (picklable) result. Raises
    :class:`LimitExceeded` or :class:`ChildFailed`."""
    reader, writer = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(reader)
        _run_child(function, args, limits, writer)
    os.close(writer)
    reaped = False
    try:
        answer = _read_answer(reader, started + limits.wall_seconds)
        if answer is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            reaped = True
            raise LimitExceeded("time", f"{limits.wall_seconds:g} s")
        _, status, usage = os.wait4(pid, 0)
        reaped = True
    finally:
        os.close(reader)
        if not reaped:  # interrupted (the worker is being stopped): the child goes too
            _kill_and_reap(pid)
    return _outcome(answer, status, usage, limits)


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _read_answer(reader: int, deadline: float) -> bytes | None:
    """Everything the child writes until it closes the pipe; None if the deadline passes first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([reader], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(reader, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size <= MAX_ANSWER_BYTES:
            chunks.append(chunk)


def _outcome(answer: bytes, status: int, usage, limits: Limits) -> Any:
    if os.WIFSIGNALED(status):
        used = usage.ru_utime + usage.ru_stime
        signum = os.WTERMSIG(status)
        if signum == signal.SIGXCPU or used >= limits.cpu_seconds:
            raise LimitExceeded("cpu", f"{used:.1f} s")
        if signum == signal.SIGALRM:
            raise LimitExceeded("time", f"{limits.wall_seconds:g} s")
        if usage.ru_maxrss * 1024 >= limits.memory_mb * MB // 2:
            # A C library that cannot allocate aborts (PDFium: SIGABRT) rather than failing the
            # call; a child that held half its address space in memory when it died ran out of it.
            raise LimitExceeded("memory", f"{limits.memory_mb} MB, {signal.Signals(signum).name}")
        raise LimitExceeded("crash", signal.Signals(signum).name)
    try:
        kind, value = pickle.loads(answer) if answer else ("crash", f"exit {os.WEXITSTATUS(status)}")
    except Exception:  # a cut or garbled answer
        kind, value = "crash", "unreadable answer"
    if kind == "ok":
        return value
    if kind == "error":
        raise ChildFailed(value)
    raise LimitExceeded(kind, str(value or ""))


def address_space_exhausted(margin_mb: int = 16) -> bool:
    """Whether this process has reached its ``RLIMIT_AS`` (within ``margin_mb``): libxml2 reports
    a failed allocation as a syntax error ("unknown error"), which only this tells apart from a
    broken document."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return False
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            peak = next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmPeak:")), 0)
    except OSError:
        return False
    return peak >= soft - margin_mb * MB


def _run_child(function: Callable[..., Any], args: tuple, limits: Limits, writer: int) -> None:
    code = 0
    try:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)  # the worker's handlers are not the child's
        die_with_parent(signal.SIGKILL)
        faulthandler.disable()  # a child ended at a limit is expected, not a crash to dump
        signal.alarm(int(limits.wall_seconds) + 2)
        memory = limits.memory_mb * MB
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        try:
            outcome: tuple[str, Any] = ("ok", function(*args))
        except MemoryError:
            outcome = ("memory", f"{limits.memory_mb} MB")
        except BaseException as err:  # noqa: B036 - reported to the parent, whatever it was
            outcome = ("error", f"{type(err).__name__}: {err}"[:2000])
        try:
            payload = pickle.dumps(outcome)
        except MemoryError:
            payload = pickle.dumps(("memory", f"{limits.memory_mb} MB"))
        view = memoryview(payload)
        while view:
            view = view[os.write(writer, view):]
    except BaseException:  # noqa: B036 - nothing may escape a forked child
        code = 1
    finally:
        os._exit(code)
