"""The worker as a child of the serving command: one service to run (``make run``,
``deploy/xkxl.service``), and the worker comes and goes with it.

The serving command starts ``python -m xkxl_intranet.worker`` with its own environment (the
same instance folder, database and queue), restarts it when it dies (after 1 s, doubling up to a
minute while it keeps dying at once), and stops it when serving stops: SIGINT (huey finishes the
jobs in hand), SIGTERM after ``grace`` seconds, SIGKILL after that. The worker also stops by
itself if the serving command is killed outright (``worker.py``), and a reading cut short
either way is read again when a worker starts.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

log = logging.getLogger(__name__)
SUPERVISED = "XKXL_SUPERVISED"  # tells the worker it is the serving command's child
WORKER_COMMAND = [sys.executable, "-m", "xkxl_intranet.worker"]
FIRST_DELAY, MAX_DELAY = 1.0, 60.0
STEADY = 60.0  # a worker that ran this long died of something else than starting: restart quickly


class WorkerSupervisor:
    def __init__(self, instance_path: str, *, workers: int | None = None, grace: float = 10.0):
        self.env = {**os.environ, "XKXL_INSTANCE_PATH": str(instance_path), SUPERVISED: "1"}
        self.command = WORKER_COMMAND + ([f"--workers={workers}"] if workers else [])
        self.grace = grace
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="job-worker-supervisor", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> WorkerSupervisor:
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self.process = subprocess.Popen(self.command, env=self.env)
            log.info("job worker started (pid %s)", self.process.pid)

    def _watch(self) -> None:
        delay = FIRST_DELAY
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self.process.wait() if self.process is not None else None
            if self._stopping.is_set():
                return
            delay = FIRST_DELAY if time.monotonic() - started > STEADY else min(delay * 2, MAX_DELAY)
            log.error("job worker exited (%s); restarting in %.0f s", code, delay)
            if self._stopping.wait(delay):
                return
            self.restarts += 1
            self._spawn()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            process = self.process
        if process is None or process.poll() is not None:
            return
        for signum, wait in ((signal.SIGINT, self.grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                process.send_signal(signum)
                process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return
